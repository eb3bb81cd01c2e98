// Package purge runs last in the nightly flow: hot facts of customers
// whose analytics consent ended are deleted (cold took its share when the
// facts arrived), retention limits are enforced (facts by
// privacy.retention_months, per-customer derived history such as scores
// and segment membership by privacy.history_days), erasure requests are
// carried out (rows deleted, data keys destroyed, identifiers suppressed),
// and landing is emptied. Every action is written to ops.privacy_audit
// with row counts and request ids, never PII.
package purge

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/parcours/parcours/internal/ahocorasick"
	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/phone"
	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/ingest"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
	"github.com/rs/zerolog"
)

// Job is the purge job.
type Job struct{}

// New returns the purge job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	// Sharded, each shard purges what it holds, and the merged warehouse
	// (publish stage) what only it holds: the identity graph, the
	// suppression list, quarantine and landing its route stage loaded.
	return orchestration.Spec{Name: "purge", Needs: []string{"split", "cold", "vault", "consent", "kpis"},
		Placement: orchestration.OnBoth, MergeStage: orchestration.StagePublish,
		SQL: sqlRefs(),
		Doc: "ended consents, retention limits, erasure requests (crypto-shredding, suppression list); empties landing"}
}

// purgeSQL holds the purge job's statements.
const purgeSQL = "privacy.purge.sql"

// Audit is one ops.privacy_audit row.
type Audit struct {
	Action, RequestID, Subject, Target, Detail string
	Rows                                       int64
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	wh := env.WH
	conn, err := wh.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	now := env.EndOfDay()
	var audits []Audit
	lap := logging.Steps(env.Log, "purge step")

	// Erasure first: a subject who asked to be forgotten must not wait for
	// the rest of the purge.
	reqs, err := PendingRequests(ctx, wh, conn)
	if err != nil {
		return c, err
	}
	a, err := Erase(ctx, wh, conn, reqs, env.Log)
	if err != nil {
		return c, err
	}
	audits = append(audits, a...)
	c.Detail["erasure_requests"] = int64(len(reqs))
	lap("erasure")

	err = warehouse.InTx(ctx, conn, func() error {
		srcs, err := sources.Effective(env.Config.Sources)
		if err != nil {
			return err
		}
		// The merged warehouse of a sharded night holds no hot data of its
		// own (only the copies a merge stage gathers): the shards purge it.
		if !env.Merged {
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "privacy.purge.sql", Section: "consented_now"}, sql.Named("now", now)); err != nil {
				return err
			}
			a, err := runCounted(ctx, wh, conn, "consent_purge", "", "")
			if err != nil {
				return err
			}
			audits = append(audits, a...)
			lap("consent purge")
			a, err = retention(ctx, env, wh, conn, srcs)
			if err != nil {
				return err
			}
			audits = append(audits, a...)
			if days := env.Config.Privacy.HistoryDays; days > 0 {
				a, err := runCounted(ctx, wh, conn, "history", "", "",
					sql.Named("date", env.DateString()), sql.Named("days", days))
				if err != nil {
					return err
				}
				for i := range a {
					a[i].Action, a[i].Detail = "retention", fmt.Sprintf("derived history older than %d nights (privacy.history_days)", days)
				}
				audits = append(audits, a...)
			}
			lap("retention")
			// Whole: a deleted fact may have been the record that hid another
			// source's copy of its order, or the first event of an order.
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.orders.sql", Section: "build"}, sql.Named("all", true)); err != nil {
				return err
			}
			lap("orders")
		}
		for _, stmt := range ingest.LandingDrop(srcs) {
			res, err := conn.ExecContext(ctx, stmt)
			if err != nil {
				return fmt.Errorf("empty landing: %w", err)
			}
			n, _ := res.RowsAffected()
			audits = append(audits, Audit{Action: "landing_drop", Target: Target(stmt), Rows: n})
		}
		// A merged warehouse's route of the landing it held (the shards
		// have sliced it): identifier lists in clear.
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "route.event_groups.sql", Section: "clear"}); err != nil {
			return err
		}
		n, err := wh.Run(ctx, conn, sqlfs.Ref{File: "privacy.purge.sql", Section: "quarantine_retention"},
			sql.Named("quarantine_days", env.Config.Privacy.QuarantineDays))
		if err != nil {
			return err
		}
		audits = append(audits, Audit{Action: "retention", Target: "ops.quarantine", Rows: n,
			Detail: fmt.Sprintf("quarantined more than %d days ago", env.Config.Privacy.QuarantineDays)})
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("purge: %w", err)
	}
	lap("landing and quarantine")
	// Keys without a vault entry (left by an interrupted run) are destroyed
	// too: a key must not outlive the data it protects.
	orphans, err := sweepOrphanKeys(ctx, wh, conn)
	if err != nil {
		return c, err
	}
	if orphans > 0 {
		audits = append(audits, Audit{Action: "crypto_shred", Target: "keystore", Rows: int64(orphans), Detail: "data keys without a vault entry"})
	}
	lap("orphan keys")
	for _, a := range audits {
		if !a.kept() {
			continue
		}
		c.Detail[a.Action] += a.Rows
		if a.Action != "landing_drop" {
			c.Out += a.Rows
		}
	}
	err = WriteAudit(ctx, wh, conn, env.RunID, env.Date, audits)
	lap("audit trail")
	return c, err
}

// hotTables are the hot fact tables each kind of source fills.
func hotTables(kind string) []string {
	switch kind {
	case "events":
		return []string{"web_events", "app_events"}
	case "orders", "order_lines":
		return []string{"store_receipts", "order_records"}
	case "contacts":
		return []string{"contacts"}
	case "email_events":
		return []string{"email_events"}
	case "surveys":
		return []string{"survey_responses"}
	}
	return nil
}

// retention deletes hot facts older than their limit: the table's
// (privacy.retention_months) for rows of sources without their own, each
// source's retention_months for its rows. A delete that takes rows the
// night's ingest just loaded (a history load) is said at warn level.
func retention(ctx context.Context, env *orchestration.Env, wh *warehouse.Warehouse, conn *sql.Conn, srcs []sources.Resolved) ([]Audit, error) {
	loc := env.Config.Location()
	cutoff := func(months int) time.Time {
		return time.Date(env.Date.Year(), env.Date.Month()-time.Month(months), env.Date.Day()+1, 0, 0, 0, 0, loc)
	}
	own := map[string][]sources.Resolved{} // table -> sources with their own limit
	fills := map[string][]string{}         // table -> every source filling it
	for _, r := range srcs {
		for _, t := range hotTables(r.Kind.Name) {
			fills[t] = append(fills[t], r.Name)
			if r.RetentionMonths > 0 {
				own[t] = append(own[t], r)
			}
		}
	}
	section := func(name, table string) (string, error) {
		q, err := wh.SQL.Section("privacy.purge.sql", name)
		return strings.ReplaceAll(q, "{{table}}", table), err
	}
	var audits []Audit
	run := func(table, detail string, cut time.Time, among []string, stmt string, args ...any) error {
		fresh, err := section("retention_fresh", table)
		if err != nil {
			return err
		}
		var n int64
		if err := conn.QueryRowContext(ctx, fresh, sql.Named("cutoff", cut), sql.Named("sources", among)).Scan(&n); err != nil {
			return fmt.Errorf("retention of analytics.%s: %w", table, err)
		}
		if n > 0 {
			env.Log.Warn().Str("table", "analytics."+table).Int64("rows", n).Str("rule", detail).
				Msg("retention deletes rows this night just loaded (older than the limit): set retention_months on their source to keep history")
		}
		m, err := warehouse.ExecScript(ctx, conn, stmt, args...)
		if err != nil {
			return fmt.Errorf("retention of analytics.%s: %w", table, err)
		}
		audits = append(audits, Audit{Action: "retention", Target: "analytics." + table, Rows: m, Detail: detail})
		return nil
	}
	for _, t := range slices.Sorted(maps.Keys(env.Config.Privacy.RetentionMonths)) {
		months := env.Config.Privacy.RetentionMonths[t]
		var excluded []string
		for _, r := range own[t] {
			excluded = append(excluded, r.Name)
		}
		var among []string
		for _, s := range fills[t] {
			if !slices.Contains(excluded, s) {
				among = append(among, s)
			}
		}
		stmt, err := section("retention", t)
		if err != nil {
			return nil, err
		}
		cut := cutoff(months)
		if err := run(t, fmt.Sprintf("older than %d months (before %s)", months, cut.Format(time.DateOnly)), cut, among, stmt,
			sql.Named("cutoff", cut), sql.Named("own", append([]string{}, excluded...))); err != nil {
			return nil, err
		}
	}
	for _, t := range slices.Sorted(maps.Keys(own)) {
		for _, r := range own[t] {
			stmt, err := section("retention_source", t)
			if err != nil {
				return nil, err
			}
			cut := cutoff(r.RetentionMonths)
			if err := run(t, fmt.Sprintf("source %s: older than %d months (before %s)", r.Name, r.RetentionMonths, cut.Format(time.DateOnly)),
				cut, []string{r.Name}, stmt, sql.Named("source", r.Name), sql.Named("cutoff", cut)); err != nil {
				return nil, err
			}
		}
	}
	return audits, nil
}

// kept reports whether an audit row is recorded: what changed something,
// and every erasure and key destruction (even of nothing: the proof it ran).
func (a Audit) kept() bool {
	return a.Rows > 0 || a.Action == "erasure" || a.Action == "crypto_shred"
}

// runCounted runs a section statement by statement, one audit row per
// statement (its target table and rows affected).
func runCounted(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, section, requestID, subject string, args ...any) ([]Audit, error) {
	body, err := wh.SQL.Section("privacy.purge.sql", section)
	if err != nil {
		return nil, err
	}
	var out []Audit
	for _, stmt := range sqlfs.Split(body) {
		n, err := warehouse.ExecScript(ctx, conn, stmt, args...)
		if err != nil {
			return nil, fmt.Errorf("privacy.purge.sql %s: %w", section, err)
		}
		out = append(out, Audit{Action: section, RequestID: requestID, Subject: subject, Target: Target(stmt), Rows: n})
	}
	return out, nil
}

// Target is the table a DELETE, INSERT or UPDATE statement writes.
func Target(stmt string) string {
	m := regexp.MustCompile(`(?is)^(?:\s*--[^\n]*\n)*\s*(?:DELETE\s+FROM|INSERT\s+INTO|UPDATE)\s+([a-z_.]+)`).FindStringSubmatch(stmt)
	if m == nil {
		return ""
	}
	return m[1]
}

// WriteAudit appends rows to ops.privacy_audit.
func WriteAudit(ctx context.Context, wh *warehouse.Warehouse, db warehouse.Execer, runID string, date time.Time, audits []Audit) error {
	var rows [][]any
	for _, a := range audits {
		if !a.kept() {
			continue
		}
		rows = append(rows, []any{runID, date, a.Action, nullable(a.RequestID), nullable(a.Subject), nullable(a.Target), a.Rows, nullable(a.Detail)})
	}
	if err := wh.InsertSection(ctx, db, sqlfs.Ref{File: "ops.privacy_audit.sql", Section: "record_rows"}, rows); err != nil {
		return fmt.Errorf("write privacy audit: %w", err)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Request is one erasure request: an identifier, its type, the request id.
type Request struct {
	ID, Type, Value string
}

func pendingRequests(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) ([]Request, error) {
	q, err := wh.SQL.Section(purgeSQL, "pending_requests")
	if err != nil {
		return nil, err
	}
	rows, err := warehouse.Query(ctx, conn, q)
	if err != nil {
		return nil, fmt.Errorf("read erasure requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		if err := rows.Scan(&r.ID, &r.Type, &r.Value); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Erase forgets subjects: every customer a requested identifier belongs
// to loses their hot rows, vault entries, identity graph, ledger entries and
// quarantined rows quoting them; their data keys are destroyed first
// (crypto-shredding: copies of the old database cannot be decrypted); and
// every identifier of theirs joins the suppression list, so that no old
// extract brings them back. Identifier types are customer_id, email or
// phone; values are normalised as ingest does. The requests are carried out
// together (one pass over each table, whatever their number); the audit
// has one "erasure" row per request and the rows deleted per table. log
// gets each step's time at debug level.
func Erase(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, reqs []Request, log zerolog.Logger) ([]Audit, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	lap := logging.Steps(log, "erasure step")
	if wh.Secrets == nil || wh.Secrets.MasterKey == nil {
		return nil, fmt.Errorf("erase: no master key loaded")
	}
	byRequest, keysFound, err := resolve(ctx, wh, conn, reqs)
	if err != nil {
		return nil, err
	}
	lap("resolve")
	ks, err := vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey)
	if err != nil {
		return nil, err
	}
	// Values to scrub from quarantine and stored error texts: the ones
	// asked for and, while the keys still exist, what the vault holds of
	// the subjects, in every form they can be written in.
	var scrub []ScrubValue
	for _, r := range reqs {
		scrub = append(scrub, ScrubForms(r.Type, r.Value, wh.Config.Region)...)
	}
	recs, err := vault.ReadSubjects(ctx, wh.DB, wh.SQL, ks, keysFound)
	if err != nil {
		return nil, err
	}
	scrub = append(scrub, recordForms(recs, wh.Config.Region)...)
	lap("subjects read")
	var subjects []vault.Subject
	for _, rec := range recs {
		s, err := vault.ParseSubject(rec.SubjectToken)
		if err != nil {
			return nil, err
		}
		subjects = append(subjects, s)
	}
	if err := eraseValues(ctx, wh, conn, scrub); err != nil {
		return nil, err
	}
	lap("quarantine searched")
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "privacy.purge.sql", Section: "erase_targets"}); err != nil {
		return nil, err
	}
	// CRM ids among the subjects' identifiers are vault subjects too, even
	// without a vault row (a key minted by an interrupted run).
	q, err := wh.SQL.Section(purgeSQL, "erase_crm_tokens")
	if err != nil {
		return nil, err
	}
	trows, err := warehouse.Query(ctx, conn, q)
	if err != nil {
		return nil, fmt.Errorf("%s erase_crm_tokens: %w", purgeSQL, err)
	}
	for trows.Next() {
		var t string
		if err := trows.Scan(&t); err != nil {
			trows.Close()
			return nil, err
		}
		if s, err := vault.ParseSubject(t); err == nil {
			subjects = append(subjects, s)
		}
	}
	trows.Close()
	destroyed := 0
	for _, s := range subjects {
		if ks.Destroy(s) {
			destroyed++
		}
	}
	// Keys go first: if what follows fails, the values are already
	// unreadable, and the rerun deletes the rows.
	if err := ks.Save(); err != nil {
		return nil, err
	}
	lap("keys destroyed")
	batch := reqs[0].ID
	if len(reqs) > 1 {
		batch = fmt.Sprintf("%s (+%d more)", reqs[0].ID, len(reqs)-1)
	}
	var audits []Audit
	err = warehouse.InTx(ctx, conn, func() error {
		if err := quotingRows(ctx, wh, conn, scrub); err != nil {
			return err
		}
		for _, section := range []string{"erase", "erase_texts"} {
			a, err := runCounted(ctx, wh, conn, section, batch, "")
			if err != nil {
				return err
			}
			audits = append(audits, asErase(a)...)
			lap(section)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	lap("commit")
	var total int64
	for _, a := range audits {
		if a.Target != "ops.suppression" {
			total += a.Rows
		}
	}
	audits = append(audits, Audit{Action: "crypto_shred", RequestID: batch, Target: "keystore", Rows: int64(destroyed)})
	for _, r := range reqs {
		ks := byRequest[r.ID]
		a := Audit{Action: "erasure", RequestID: r.ID, Detail: fmt.Sprintf("%d customer(s) erased (%s identifier)", len(ks), r.Type)}
		if len(ks) > 0 {
			a.Subject = ks[0][:12]
		} else {
			a.Detail = "no customer holds this " + r.Type + "; identifier suppressed"
		}
		if len(reqs) == 1 {
			a.Rows = total
			a.Detail += fmt.Sprintf(", %d rows deleted, %d data keys destroyed", total, destroyed)
		}
		audits = append(audits, a)
	}
	return audits, nil
}

// resolve finds the customers the requests name, in the identity graph:
// it fills the TEMP tables erase_requested (the requested identifiers'
// tokens), erase_keys_by_request and erase_keys.
func resolve(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, reqs []Request) (map[string][]string, []string, error) {
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: purgeSQL, Section: "erase_input"}); err != nil {
		return nil, nil, err
	}
	var rows [][]any
	for _, r := range reqs {
		rows = append(rows, []any{r.ID, r.Type, r.Value})
	}
	if err := wh.InsertSection(ctx, conn, sqlfs.Ref{File: purgeSQL, Section: "erase_input_rows"}, rows); err != nil {
		return nil, nil, err
	}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: purgeSQL, Section: "erase_resolve"}); err != nil {
		return nil, nil, fmt.Errorf("erase: %w", err)
	}
	byRequest := map[string][]string{}
	var keysFound []string
	q, err := wh.SQL.Section(purgeSQL, "erase_keys_by_request")
	if err != nil {
		return nil, nil, err
	}
	kr, err := warehouse.Query(ctx, conn, q)
	if err != nil {
		return nil, nil, fmt.Errorf("%s erase_keys_by_request: %w", purgeSQL, err)
	}
	for kr.Next() {
		var id, k string
		if err := kr.Scan(&id, &k); err != nil {
			kr.Close()
			return nil, nil, err
		}
		byRequest[id] = append(byRequest[id], k)
		keysFound = append(keysFound, k)
	}
	kr.Close()
	return byRequest, keysFound, nil
}

// quotingRows lists in the TEMP table erase_quarantine the quarantined
// rows that quote one of the scrub values: each row's text is scanned once
// for all of them.
func quotingRows(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, scrub []ScrubValue) error {
	var text, digits []string
	for _, v := range scrub {
		if v.Form == "digits" {
			digits = append(digits, v.Value)
		} else {
			text = append(text, v.Value)
		}
	}
	inText, inDigits := ahocorasick.New(text), ahocorasick.New(digits)
	q, err := wh.SQL.Section("privacy.purge.sql", "erase_quarantine_texts")
	if err != nil {
		return err
	}
	// Read as Arrow and put in both forms here, in reused buffers: at
	// 300k rows (the 1M bench) a row per Scan and the forms made in SQL
	// took 1.3 s, this 0.6 s.
	var rids []int64
	var lower, stripped []byte
	err = warehouse.QueryArrow(ctx, conn, q, nil, nil, func(rec arrow.RecordBatch) error {
		ids, ok := rec.Column(0).(*array.Int64)
		texts, ok2 := rec.Column(1).(*array.String)
		if !ok || !ok2 {
			return fmt.Errorf("columns are %s, %s; want BIGINT, VARCHAR", rec.Column(0).DataType(), rec.Column(1).DataType())
		}
		for r := 0; r < texts.Len(); r++ {
			t := texts.Value(r)
			lower, stripped = appendLower(lower[:0], t), appendStripped(stripped[:0], t)
			if inText.ContainsBytes(lower) || inDigits.ContainsBytes(stripped) {
				rids = append(rids, ids.Value(r))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("privacy.purge.sql erase_quarantine_texts: %w", err)
	}
	if len(rids) == 0 {
		return nil
	}
	_, err = wh.Run(ctx, conn, sqlfs.Ref{File: "privacy.purge.sql", Section: "erase_quarantine"}, sql.Named("rids", rids))
	return err
}

// appendLower appends s lower-cased as strings.ToLower does, ASCII
// without allocating.
func appendLower(b []byte, s string) []byte {
	start := len(b)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return append(b[:start], strings.ToLower(s)...)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// appendStripped appends s without the separators people write numbers
// with: the bytes quotes_erased's regexp_replace removes, RE2's \s (tab,
// newline, form feed, carriage return, space) and . - ( ) /. They are
// ASCII, so bytes of other characters are never dropped.
func appendStripped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t', '\n', '\f', '\r', ' ', '.', '-', '(', ')', '/':
		default:
			b = append(b, c)
		}
	}
	return b
}

// ScrubValue is one form of an identifier to look for in raw text:
// Form "text" is compared with the lower-cased text, "digits" with the
// text stripped of the separators people write numbers with.
type ScrubValue struct{ Value, Form string }

// ScrubForms lists the forms an identifier can take in raw text (a
// quarantined row, an error a database or destination quoted): an email
// in any case or URL-encoded; a phone as its national significant digits,
// which every written form contains once separators are dropped
// (06.64.35.63.42, +33 6 64 35 63 42, 0033664356342); anything else as
// written, in any case.
func ScrubForms(idType, v, region string) []ScrubValue {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	switch idType {
	case "email":
		e := strings.ToLower(v)
		return []ScrubValue{{e, "text"}, {strings.ReplaceAll(e, "@", "%40"), "text"}}
	case "phone", "loyalty_card":
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v)
		if idType == "phone" {
			if e, ok := phone.E164(v, region); ok {
				digits = phone.NationalDigits(e)
			}
		}
		if len(digits) < 6 {
			return nil // too short to tell a number from any other digits
		}
		return []ScrubValue{{digits, "digits"}}
	}
	return []ScrubValue{{strings.ToLower(v), "text"}}
}

func sweepOrphanKeys(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) (int, error) {
	if wh.Secrets == nil || wh.Secrets.MasterKey == nil {
		return 0, nil
	}
	ks, err := vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey)
	if err != nil {
		return 0, err
	}
	q, err := wh.SQL.Section("vault.pii.sql", "subject_tokens")
	if err != nil {
		return 0, err
	}
	// A million tokens: read as Arrow columns into a set of fixed-size
	// subjects, not a string per row (the sweep took 1.6 s at 1M
	// customers, 0.7 s now with the keystore read).
	have := make(map[vault.Subject]struct{}, ks.Len())
	err = warehouse.QueryArrow(ctx, conn, q, nil, nil, func(rec arrow.RecordBatch) error {
		col, ok := rec.Column(0).(*array.String)
		if !ok {
			return fmt.Errorf("column is %s, want VARCHAR", rec.Column(0).DataType())
		}
		for r := 0; r < col.Len(); r++ {
			// A malformed token owns no key: it keeps none alive.
			if s, err := vault.ParseSubject(col.Value(r)); err == nil && col.IsValid(r) {
				have[s] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("vault.pii.sql subject_tokens: %w", err)
	}
	n := 0
	for _, s := range ks.Subjects() {
		if _, ok := have[s]; !ok {
			ks.Destroy(s)
			n++
		}
	}
	return n, ks.Save()
}

// recordForms are the forms of what the vault holds of the subjects.
func recordForms(recs []vault.Record, region string) []ScrubValue {
	var out []ScrubValue
	for _, rec := range recs {
		for _, f := range []string{"customer_id", "email", "phone"} {
			if v := rec.Values[f]; v != "" {
				out = append(out, ScrubForms(f, v, region)...)
			}
		}
	}
	return out
}

// eraseValues fills the TEMP table erase_values with the forms to scrub.
func eraseValues(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, scrub []ScrubValue) error {
	values, forms := make([]string, len(scrub)), make([]string, len(scrub))
	for i, v := range scrub {
		values[i], forms[i] = v.Value, v.Form
	}
	_, err := wh.Run(ctx, conn, sqlfs.Ref{File: "privacy.purge.sql", Section: "erase_values"}, sql.Named("values", values), sql.Named("forms", forms))
	return err
}

// PendingRequests are the erasure requests landing holds.
func PendingRequests(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) ([]Request, error) {
	return pendingRequests(ctx, wh, conn)
}

// Vault is a vault table and its keystore (an attached shard's).
type Vault struct {
	Table string
	Keys  *vault.Keystore
}

// ScrubTexts deletes the quarantined rows, and blanks the stored error
// texts, that quote the requests' identifiers or, in any form, what the
// given vaults hold of the customers they name. The merged warehouse of a
// sharded night runs it in its route stage: it holds quarantine, and the
// shards' vaults still hold the subjects (their purge comes later, and
// the merged purge erases the rest with the identifiers alone).
func ScrubTexts(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, reqs []Request, vaults []Vault) ([]Audit, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	_, keysFound, err := resolve(ctx, wh, conn, reqs)
	if err != nil {
		return nil, err
	}
	var scrub []ScrubValue
	for _, r := range reqs {
		scrub = append(scrub, ScrubForms(r.Type, r.Value, wh.Config.Region)...)
	}
	for _, v := range vaults {
		recs, err := vault.ReadSubjectsIn(ctx, wh.DB, wh.SQL, v.Table, v.Keys, keysFound)
		if err != nil {
			return nil, err
		}
		scrub = append(scrub, recordForms(recs, wh.Config.Region)...)
	}
	if err := eraseValues(ctx, wh, conn, scrub); err != nil {
		return nil, err
	}
	var audits []Audit
	err = warehouse.InTx(ctx, conn, func() error {
		if err := quotingRows(ctx, wh, conn, scrub); err != nil {
			return err
		}
		a, err := runCounted(ctx, wh, conn, "erase_texts", fmt.Sprintf("%d request(s)", len(reqs)), "")
		audits = asErase(a)
		return err
	})
	return audits, err
}

// asErase logs rows an erasure deleted under the action "erase".
func asErase(a []Audit) []Audit {
	for i := range a {
		a[i].Action = "erase"
	}
	return a
}
