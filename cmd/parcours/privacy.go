package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/identity"
	"github.com/parcours/parcours/jobs/purge"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) privacyCommand() *cobra.Command {
	c := &cobra.Command{Use: "privacy", Short: "Data-subject rights: erasure (forget), access (export), objection (object), contesting a decision (contest, resolve)"}
	var idType string
	var asJSON bool
	forget := &cobra.Command{
		Use:   "forget <email|phone|customer id>",
		Short: "Erase a subject now: hot rows, vault entry and data key (crypto-shredding), identity graph; suppress their identifiers",
		Example: `  parcours privacy forget jane.doe@example.com
  parcours privacy forget "+33 6 12 34 56 78" --request-id DPO-2026-0042`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			reqID, _ := cmd.Flags().GetString("request-id")
			if reqID == "" {
				reqID = "cli:" + time.Now().UTC().Format(time.RFC3339)
			}
			sess, err := a.open(ctx, false, "parcours privacy forget")
			if err != nil {
				return err
			}
			defer sess.Close()
			typ, value, err := subjectOf(ctx, sess.wh, args[0], idType)
			if err != nil {
				return err
			}
			conn, err := sess.wh.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			audits, err := purge.Erase(ctx, sess.wh, conn, []purge.Request{{ID: reqID, Type: typ, Value: value}})
			if err != nil {
				return err
			}
			today := time.Now().In(a.cfg.Location())
			date := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
			if err := purge.WriteAudit(ctx, conn, reqID, date, audits); err != nil {
				return err
			}
			last := audits[len(audits)-1]
			if asJSON {
				err = a.printJSON(map[string]any{"request_id": reqID, "type": typ, "subject": last.Subject, "detail": last.Detail})
			} else {
				fmt.Fprintf(a.stdout, "erased (%s, request %s): %s\n", typ, reqID, last.Detail)
			}
			if err == nil && last.Subject == "" {
				// Recorded and suppressed all the same: data about it that
				// arrives later is not kept.
				return orchestration.NotFound("no customer holds this %s; it is suppressed and the request recorded", typ)
			}
			return err
		},
	}
	forget.Flags().String("request-id", "", "id of the request, for ops.privacy_audit (default cli:<time>)")
	forget.Flags().StringVar(&idType, "type", "", "identifier type: email, phone or customer_id (default: guessed)")
	forget.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")

	var out string
	export := &cobra.Command{
		Use:   "export <email|phone|customer id>",
		Short: "Everything held about a subject, as JSON: decrypted profile, consents, hot facts, scores, cold tables fed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, true, "parcours privacy export")
			if err != nil {
				return err
			}
			defer sess.Close()
			if sess.wh.Secrets == nil || sess.wh.Secrets.MasterKey == nil {
				return fmt.Errorf("%w: privacy export needs the master key and pepper", keys.ErrKey)
			}
			typ, value, err := subjectOf(ctx, sess.wh, args[0], idType)
			if err != nil {
				return err
			}
			rep, err := subjectReport(ctx, sess.wh, typ, value)
			if err != nil {
				return err
			}
			b, _ := json.MarshalIndent(rep, "", "  ")
			b = append(b, '\n')
			if out == "" || out == "-" {
				_, err = a.stdout.Write(b)
			} else if err = os.WriteFile(out, b, 0o600); err != nil { // 0600: the file holds the subject's PII in clear
				err = fmt.Errorf("write %s: %w", out, err)
			} else {
				fmt.Fprintf(a.stderr, "wrote %s (%d customer(s))\n", out, len(rep.Customers))
			}
			if err == nil && len(rep.Customers) == 0 && !rep.Suppressed {
				// The report is written all the same: "we hold nothing"
				// is an answer the subject is owed. An erased subject is
				// known (suppressed), and the report says so: not "not found".
				return orchestration.NotFound("no customer holds this %s", typ)
			}
			return err
		},
	}
	export.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	export.Flags().Bool("json", false, "print one JSON object (what export always writes)")
	export.Flags().StringVar(&idType, "type", "", "identifier type: email, phone or customer_id (default: guessed)")
	c.AddCommand(forget, export)
	c.AddCommand(a.objectionCommands()...)
	return c
}

// subjectOf reads a typed identifier: with --type as given, otherwise an
// email if it has an @, a CRM id if it looks like one, else a phone.
func subjectOf(ctx context.Context, wh *warehouse.Warehouse, s, typ string) (string, string, error) {
	s = strings.TrimSpace(s)
	if typ != "" {
		switch typ {
		case identity.Email, identity.Phone, identity.CustomerID:
			return typ, s, nil
		}
		return "", "", orchestration.Usage("--type %q: want email, phone or customer_id", typ)
	}
	var p sql.NullString
	_ = wh.DB.QueryRowContext(ctx, "SELECT norm_phone(?)", s).Scan(&p)
	for _, c := range identity.Candidates(s, func(string) string { return p.String }) {
		switch c.Type {
		case identity.Email, identity.CustomerID, identity.Phone:
			return c.Type, s, nil
		}
	}
	return "", "", orchestration.Usage("%q is not an email, phone number or customer id; use --type", s)
}

// SubjectReport is the answer to a subject access request.
type SubjectReport struct {
	Identifier  string          `json:"identifier"`
	Type        string          `json:"type"`
	GeneratedAt string          `json:"generated_at"`
	Suppressed  bool            `json:"erased,omitempty"`
	Customers   []SubjectRecord `json:"customers"`
	Notes       []string        `json:"notes"`
}

// SubjectRecord is what is held about one stitched customer.
type SubjectRecord struct {
	CustomerKey string           `json:"customer_key"`
	Identifiers []map[string]any `json:"identifiers"`
	Profile     []vault.Record   `json:"profile"`
	Consents    []map[string]any `json:"consents"`
	// Objections are the subject's objections and contests, as recorded.
	Objections []map[string]any `json:"objections"`
	// Prediction is the latest prediction about them, in words.
	Prediction *Prediction                 `json:"prediction,omitempty"`
	Data       map[string][]map[string]any `json:"data"`
	ColdTables []string                    `json:"cold_tables_fed"`
}

func subjectReport(ctx context.Context, wh *warehouse.Warehouse, typ, value string) (*SubjectReport, error) {
	rep := &SubjectReport{Identifier: value, Type: typ, GeneratedAt: time.Now().UTC().Format(time.RFC3339)}
	var token string
	if err := wh.DB.QueryRowContext(ctx, `SELECT pseudonym(?, CASE ? WHEN 'email' THEN norm_email(?) WHEN 'phone' THEN norm_phone(?) ELSE ? END)`,
		typ, typ, value, value, value).Scan(&token); err != nil {
		return nil, err
	}
	var n int
	_ = wh.DB.QueryRowContext(ctx, "SELECT count(*) FROM ops.suppression WHERE id_token = ?", token).Scan(&n)
	rep.Suppressed = n > 0
	keys, err := queryMaps(ctx, wh.DB, "SELECT DISTINCT customer_key FROM identity.customer_map WHERE id_token = ? AND NOT blocked", token)
	if err != nil {
		return nil, err
	}
	ks, err := vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		ck := k["customer_key"].(string)
		r := SubjectRecord{CustomerKey: ck, Data: map[string][]map[string]any{}}
		if r.Identifiers, err = queryMaps(ctx, wh.DB, `SELECT m.id_type AS type, i.label, i.first_seen, m.blocked
FROM identity.customer_map m JOIN identity.identifiers i USING (id_token) WHERE m.customer_key = ? ORDER BY 1, 2`, ck); err != nil {
			return nil, err
		}
		if r.Profile, err = vault.ReadSubjects(ctx, wh.DB, ks, []string{ck}); err != nil {
			return nil, err
		}
		if r.Consents, err = queryMaps(ctx, wh.DB, `SELECT e.purpose, e.status, e.ts, e.expires_at, e.source, e.subject_type AS given_with
FROM consent.events e JOIN identity.customer_map m ON m.id_token = e.subject_token WHERE m.customer_key = ? ORDER BY e.ts`, ck); err != nil {
			return nil, err
		}
		// Every analytics table keyed by customer: facts, and the scores,
		// segments and reasons later jobs add, without listing them here.
		tables, err := queryMaps(ctx, wh.DB, `SELECT table_schema || '.' || table_name AS t FROM information_schema.columns
WHERE table_catalog = 'hot' AND table_schema = 'analytics' AND column_name = 'customer_key' ORDER BY 1`)
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			name := t["t"].(string)
			rows, err := queryMaps(ctx, wh.DB, fmt.Sprintf("SELECT * EXCLUDE (customer_key) FROM %s WHERE customer_key = ?", name), ck)
			if err != nil {
				return nil, err
			}
			if len(rows) > 0 {
				r.Data[name] = rows
			}
		}
		q, err := wh.SQL.Section("consent.objections.sql", "of_customer")
		if err != nil {
			return nil, err
		}
		if r.Objections, err = queryMaps(ctx, wh.DB, q, sql.Named("customer_key", ck)); err != nil {
			return nil, err
		}
		if r.Prediction, err = predictionOf(ctx, wh, ck, r.Objections); err != nil {
			return nil, err
		}
		r.ColdTables = coldFed(r.Data)
		rep.Customers = append(rep.Customers, r)
	}
	rep.Notes = []string{
		"cold tables hold anonymous counts only (each row at least k customers); they cannot be traced back to you, and list here the tables your activity was counted in",
		"profile values are decrypted from the identity vault; identifiers are shown masked",
	}
	if len(keys) == 0 {
		rep.Notes = append(rep.Notes, "no customer holds this identifier")
	}
	return rep, nil
}

// Prediction is what the models last said about a customer, and whether
// automated decisions are made about them now.
type Prediction struct {
	Churn *ChurnPrediction `json:"churn,omitempty"`
	Value *ValuePrediction `json:"value,omitempty"`
	// AutomatedDecisions says whether scores, segments, triggers and
	// activation use the subject now, and why not.
	AutomatedDecisions string `json:"automated_decisions"`
}

// ChurnPrediction is the latest churn score with its reasons in words.
type ChurnPrediction struct {
	ScoredOn    string   `json:"scored_on"`
	Probability float64  `json:"probability_to_stop_buying"`
	RiskBand    string   `json:"risk_band"`
	Reasons     []string `json:"reasons"`
	Model       string   `json:"model"`
}

// ValuePrediction is the latest customer-value estimate.
type ValuePrediction struct {
	ScoredOn      string  `json:"scored_on"`
	ProbAlive     float64 `json:"probability_still_a_customer"`
	Purchases365  float64 `json:"expected_purchases_next_year"`
	CustomerValue float64 `json:"expected_value"`
	Model         string  `json:"model"`
}

// predictionOf reads a customer's latest prediction and says, from their
// objections, whether automated decisions are made about them.
func predictionOf(ctx context.Context, wh *warehouse.Warehouse, ck string, objections []map[string]any) (*Prediction, error) {
	q, err := wh.SQL.Section("consent.objections.sql", "prediction")
	if err != nil {
		return nil, err
	}
	var (
		band, r1, r2, r3, model, vModel sql.NullString
		prob, alive, p365, value        sql.NullFloat64
		onT, vOnT                       sql.NullTime
	)
	err = wh.DB.QueryRowContext(ctx, q, sql.Named("customer_key", ck)).Scan(&onT, &prob, &band, &r1, &r2, &r3, &model, &vOnT, &alive, &p365, &value, &vModel)
	if err != nil {
		return nil, fmt.Errorf("read prediction: %w", err)
	}
	p := &Prediction{AutomatedDecisions: "in use: scores, segments, triggers and activation may use you within the consents you gave"}
	if prob.Valid {
		c := &ChurnPrediction{ScoredOn: onT.Time.Format(time.DateOnly), Probability: prob.Float64, RiskBand: band.String, Model: model.String}
		for _, r := range []sql.NullString{r1, r2, r3} {
			if r.Valid && r.String != "" {
				c.Reasons = append(c.Reasons, r.String)
			}
		}
		p.Churn = c
	}
	if value.Valid {
		p.Value = &ValuePrediction{ScoredOn: vOnT.Time.Format(time.DateOnly), ProbAlive: alive.Float64, Purchases365: p365.Float64,
			CustomerValue: value.Float64, Model: vModel.String}
	}
	// The latest record per scope decides, as in consent.objecting.
	latest := map[string]map[string]any{}
	for _, o := range objections {
		latest[fmt.Sprint(o["scope"])] = o
	}
	var paused []string
	for _, scope := range []string{"profiling", "contest", "marketing"} {
		o := latest[scope]
		if o == nil || (o["status"] != "objected" && o["status"] != "contested") {
			continue
		}
		since := ""
		if t, ok := o["ts"].(time.Time); ok {
			since = " since " + t.Format(time.DateOnly)
		}
		switch scope {
		case "profiling":
			paused = append(paused, "you object to profiling"+since)
		case "contest":
			paused = append(paused, "you contest a prediction"+since)
		case "marketing":
			paused = append(paused, "you object to direct marketing"+since)
		}
	}
	if len(paused) > 0 {
		p.AutomatedDecisions = "not in use: " + strings.Join(paused, "; ") + " (from the first nightly run after it was recorded)"
	}
	return p, nil
}

func coldFed(data map[string][]map[string]any) []string {
	fed := map[string]bool{}
	for t := range data {
		switch t {
		case "analytics.web_events", "analytics.app_events":
			fed["daily_activity"], fed["funnel_daily"], fed["conversion_paths"] = true, true, true
		case "analytics.store_receipts":
			fed["daily_activity"], fed["cohort_retention"], fed["conversion_paths"] = true, true, true
		case "analytics.email_events":
			fed["daily_activity"], fed["conversion_paths"] = true, true
		case "analytics.contacts":
			fed["daily_activity"], fed["survey_scores"], fed["conversion_paths"] = true, true, true
		case "analytics.survey_responses":
			fed["survey_scores"] = true
		case "analytics.orders":
			fed["cohort_retention"] = true
		}
	}
	var out []string
	for _, t := range []string{"cohort_retention", "conversion_paths", "daily_activity", "funnel_daily", "survey_scores"} {
		if fed[t] {
			out = append(out, "cold."+t)
		}
	}
	return out
}

func queryMaps(ctx context.Context, db *sql.DB, q string, args ...any) ([]map[string]any, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (a *app) keysCommand() *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Manage the master key that wraps the vault's data keys"}
	var asJSON bool
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Re-wrap every data key under a new master key (no vault value is touched); safe to interrupt and rerun",
		Long: `Re-wraps every customer data key of the keystore under a new master key.
With the master key in the key file, a new key is minted and kept there as
next_master_key until the keystore is rewritten, then promoted. With the
master key in PARCOURS_MASTER_KEY, give the new one in
PARCOURS_NEW_MASTER_KEY, then replace PARCOURS_MASTER_KEY by it. If
interrupted, run the same command again: it finishes what was started.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lock, err := warehouse.AcquireLock(a.cfg.Warehouse, true, "parcours keys rotate")
			if err != nil {
				if warehouse.IsLocked(err) {
					return orchestration.Temporary(err, 0)
				}
				return err
			}
			defer lock.Release()
			if !warehouse.Exists(a.cfg.Warehouse) {
				return orchestration.Usage("no warehouse at %s", a.cfg.Warehouse)
			}
			s, err := keys.Load(a.cfg.KeyFile(), false)
			if err != nil {
				return err
			}
			path := warehouse.KeystorePath(a.cfg.Warehouse)
			h, err := vault.ReadHeader(path)
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%w: %s does not exist; restore it from backup before rotating (nothing changed)", vault.ErrMissing, path)
			}
			if err != nil {
				return err
			}
			kcv := h.KeyCheckValue
			// Refuse a master key that opens nothing before minting anything.
			if kcv != "" && kcv != vault.KeyCheckValue(s.MasterKey) && (s.NextMasterKey == nil || kcv != vault.KeyCheckValue(s.NextMasterKey)) {
				return fmt.Errorf("%w (keystore %s, check value %s; the current master key is %s): nothing changed",
					vault.ErrWrongMaster, path, kcv, vault.KeyCheckValue(s.MasterKey))
			}
			next, err := keys.BeginRotation(a.cfg.KeyFile(), s)
			if err != nil {
				return err
			}
			n, err := vault.Rewrap(path, s.MasterKey, next)
			if err != nil {
				return err
			}
			// Prove every key unwraps under the new master before the old
			// one is dropped from the key file.
			if _, err := vault.OpenKeystore(path, next); err != nil {
				return err
			}
			if err := keys.CompleteRotation(a.cfg.KeyFile(), s); err != nil {
				return err
			}
			res := map[string]any{"data_keys": n, "key_check_value": vault.KeyCheckValue(next)}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "re-wrapped %d data keys; master key check value now %s\n", n, vault.KeyCheckValue(next))
			if s.MasterSource == keys.EnvMasterKey {
				fmt.Fprintf(a.stdout, "now set %s to the value of %s and unset the latter\n", keys.EnvMasterKey, keys.EnvNewMasterKey)
			}
			return nil
		},
	}
	rotate.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	c.AddCommand(rotate)
	return c
}
