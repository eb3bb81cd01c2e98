package purge

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// accessSQL holds the subject access report's queries.
const accessSQL = "privacy.access.sql"

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

// Access answers a subject access request (GDPR articles 15 and 20) for
// an identifier of type typ (email, phone, customer_id): every customer it
// names, with their masked identifiers, decrypted profile, consent
// history, objections and contests, latest prediction in words, every
// analytics row keyed by them and the cold tables that counted them.
func Access(ctx context.Context, wh *warehouse.Warehouse, typ, value string) (*SubjectReport, error) {
	rep := &SubjectReport{Identifier: value, Type: typ, GeneratedAt: time.Now().UTC().Format(time.RFC3339)}
	q := func(section string) (string, error) { return wh.SQL.Section(accessSQL, section) }
	one := func(section string, dest any, args ...any) error {
		if err := wh.QueryRowSection(ctx, wh.DB, sqlfs.Ref{File: accessSQL, Section: section}, args...).Scan(dest); err != nil {
			return fmt.Errorf("%s %s: %w", accessSQL, section, err)
		}
		return nil
	}
	maps := func(file, section string, args ...any) ([]map[string]any, error) {
		s, err := wh.SQL.Section(file, section)
		if err != nil {
			return nil, err
		}
		rows, err := warehouse.QueryMaps(ctx, wh.DB, s, args...)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", file, section, err)
		}
		return rows, nil
	}
	var token string
	if err := one("token", &token, sql.Named("type", typ), sql.Named("value", value)); err != nil {
		return nil, err
	}
	if err := one("suppressed", &rep.Suppressed, sql.Named("token", token)); err != nil {
		return nil, err
	}
	keys, err := customersOfToken(ctx, wh, token)
	if err != nil {
		return nil, err
	}
	var ks *vault.Keystore
	if len(keys) > 0 {
		if ks, err = vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey); err != nil {
			return nil, err
		}
	}
	tables, err := maps(accessSQL, "customer_tables")
	if err != nil {
		return nil, err
	}
	rowsOf, err := q("table_rows")
	if err != nil {
		return nil, err
	}
	for _, ck := range keys {
		byKey := sql.Named("customer_key", ck)
		r := SubjectRecord{CustomerKey: ck, Data: map[string][]map[string]any{}}
		if r.Identifiers, err = maps(accessSQL, "identifiers", byKey); err != nil {
			return nil, err
		}
		if r.Profile, err = vault.ReadSubjects(ctx, wh.DB, wh.SQL, ks, []string{ck}); err != nil {
			return nil, err
		}
		if r.Consents, err = maps(accessSQL, "consents", byKey); err != nil {
			return nil, err
		}
		for _, t := range tables {
			name := t["t"].(string)
			rows, err := warehouse.QueryMaps(ctx, wh.DB, strings.ReplaceAll(rowsOf, "{{table}}", sqlfs.QuoteIdent(name)), byKey)
			if err != nil {
				return nil, fmt.Errorf("%s table_rows of %s: %w", accessSQL, name, err)
			}
			if len(rows) > 0 {
				r.Data[name] = rows
			}
		}
		if r.Objections, err = maps("consent.objections.sql", "of_customer", byKey); err != nil {
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

// CustomersOf are the customers an identifier of type typ (email, phone,
// customer_id) belongs to, in key order: none when no customer holds it or
// it is blocked (shared by several people).
func CustomersOf(ctx context.Context, wh *warehouse.Warehouse, typ, value string) ([]string, error) {
	var token string
	if err := wh.QueryRowSection(ctx, wh.DB, sqlfs.Ref{File: accessSQL, Section: "token"}, sql.Named("type", typ), sql.Named("value", value)).Scan(&token); err != nil {
		return nil, fmt.Errorf("%s token: %w", accessSQL, err)
	}
	return customersOfToken(ctx, wh, token)
}

// customersOfToken are the customers an identifier token names.
func customersOfToken(ctx context.Context, wh *warehouse.Warehouse, token string) ([]string, error) {
	cq, err := wh.SQL.Section(accessSQL, "customers")
	if err != nil {
		return nil, err
	}
	rows, err := warehouse.QueryMaps(ctx, wh.DB, cq, sql.Named("token", token))
	if err != nil {
		return nil, fmt.Errorf("%s customers: %w", accessSQL, err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r["customer_key"].(string))
	}
	return out, nil
}
