package purge

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse/whtest"
	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/ingest"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Every table that holds a customer_key, a customer's identifier token or
// a ledger member must be cleared by the erase section: a table added
// later cannot keep an erased customer by being forgotten there.
func TestEraseCoversEveryCustomerTable(t *testing.T) {
	wh := whtest.Open(t, nil)
	erase, err := wh.SQL.Section("privacy.purge.sql", "erase")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, stmt := range sqlfs.Split(erase) {
		if tgt := Target(stmt); tgt != "" {
			covered[tgt] = true
		}
	}
	rows, err := wh.DB.Query(`SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns
WHERE table_catalog = 'hot' AND column_name IN ('customer_key', 'subject_token', 'id_token', 'member', 'a_token', 'merged_token')
ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tbl string
		if err := rows.Scan(&tbl); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.HasPrefix(tbl, "landing.") {
			continue // emptied every run
		}
		if !covered[tbl] {
			t.Errorf("%s holds customers but privacy.purge.sql's erase section does not clear it", tbl)
		}
	}
	if n < 15 {
		t.Fatalf("only %d customer tables found", n)
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ stmt, want string }{
		{"DELETE FROM analytics.web_events WHERE x", "analytics.web_events"},
		{"-- why\n-- more\ndelete from ops.quarantine WHERE y", "ops.quarantine"},
		{"INSERT INTO ops.suppression (a) SELECT 1", "ops.suppression"},
		{"UPDATE ops.sync_state SET customer_key = NULL WHERE y", "ops.sync_state"},
		{"CREATE TEMP TABLE x AS SELECT 1", ""},
	} {
		if got := Target(tc.stmt); got != tc.want {
			t.Errorf("Target(%q) = %q, want %q", tc.stmt, got, tc.want)
		}
	}
}

// An erased subject's identifiers go from quarantined rows in every form
// they were written in (the scrub once matched normalised values only and
// kept 06.64.35.63.42), and from error texts stored in the ledgers.
func TestErasureScrubsEveryForm(t *testing.T) {
	ctx := context.Background()
	wh := whtest.Open(t, nil, func(o *warehouse.Options) {
		o.Secrets = &keys.Secrets{Pepper: []byte("p"), MasterKey: []byte("0123456789abcdef0123456789abcdef")}
	})
	rows := map[string]bool{ // raw text -> must survive
		"C1,Ann,06.64.35.63.42,Paris":                  false,
		`{"phone":"+33 6 64 35 63 42","event":"call"}`: false,
		"R9;0033664356342;store 4":                     false,
		"C2,ANN.DOE@Example.COM,,":                     false,
		`{"page":"/login?u=ann.doe%40example.com"}`:    false,
		"R10;06\t64 (35) 63/42;x":                      false,
		"R11;06|64|35|63|42":                           true, // a pipe is no separator people write numbers with
		"C3,Bob,06.11.22.33.44,Lyon":                   true,
		"C4,bob@example.com,,":                         true,
	}
	for raw := range rows {
		if _, err := wh.DB.Exec(`INSERT INTO ops.quarantine (source, file, reason, raw, load_date, run_id)
VALUES ('crm_customers', '2026-11-22/crm_customers.csv', 'bad row', ?, DATE '2026-11-22', 'r')`, raw); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO ops.job_runs (run_id, job, logical_date, attempt, status, started_at, error) VALUES
  ('r', 'ingest', DATE '2026-11-22', 1, 'failed', now(), 'missing column (found: C1, ann.doe@example.com, 06 64 35 63 42)'),
  ('r', 'vault', DATE '2026-11-22', 1, 'failed', now(), 'about bob@example.com')`,
		`INSERT INTO ops.ingest_files (source, file, folder_date, size_bytes, modified_at, status, error, run_id) VALUES
  ('surveys', '2026-11-22/surveys.csv', DATE '2026-11-22', 1, now(), 'failed', 'value +33664356342 refused', 'r')`,
	} {
		if _, err := wh.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := Erase(ctx, wh, conn, []Request{{ID: "q1", Type: "phone", Value: "06 64 35 63 42"}, {ID: "q2", Type: "email", Value: "Ann.Doe@example.com"}}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	r, err := wh.DB.Query("SELECT raw FROM ops.quarantine")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var raw string
		r.Scan(&raw)
		left[raw] = true
	}
	r.Close()
	for raw, keep := range rows {
		if left[raw] != keep {
			t.Errorf("quarantined %q: kept %v, want %v", raw, left[raw], keep)
		}
	}
	var ingestErr, vaultErr, fileErr string
	wh.DB.QueryRow("SELECT error FROM ops.job_runs WHERE job = 'ingest'").Scan(&ingestErr)
	wh.DB.QueryRow("SELECT error FROM ops.job_runs WHERE job = 'vault'").Scan(&vaultErr)
	wh.DB.QueryRow("SELECT error FROM ops.ingest_files").Scan(&fileErr)
	if strings.Contains(ingestErr, "ann") || strings.Contains(fileErr, "664356342") {
		t.Errorf("error texts still quote the subject: %q, %q", ingestErr, fileErr)
	}
	if vaultErr != "about bob@example.com" {
		t.Errorf("another subject's error text changed: %q", vaultErr)
	}
}

func TestScrubForms(t *testing.T) {
	for _, tc := range []struct {
		typ, v string
		want   []ScrubValue
	}{
		{"email", " Ann@Example.com", []ScrubValue{{"ann@example.com", "text"}, {"ann%40example.com", "text"}}},
		{"phone", "+33 6 64 35 63 42", []ScrubValue{{"664356342", "digits"}}},
		{"phone", "06.64.35.63.42", []ScrubValue{{"664356342", "digits"}}},
		{"phone", "12", nil},
		{"customer_id", "C0001", []ScrubValue{{"c0001", "text"}}},
	} {
		got := ScrubForms(tc.typ, tc.v, "FR")
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ScrubForms(%s, %q) = %v, want %v", tc.typ, tc.v, got, tc.want)
		}
	}
}

// The sweep destroys the data keys of subjects without a vault row (left
// by an interrupted run) and only those; a malformed token keeps nothing.
func TestSweepOrphanKeys(t *testing.T) {
	ctx := context.Background()
	master := make([]byte, 32)
	master[0] = 3
	wh, ks := whtest.OpenVault(t, nil, master)
	var subjects []vault.Subject
	for i, crm := range []string{"CRM-1", "CRM-2", "CRM-3", "CRM-4"} {
		var token string
		if err := wh.DB.QueryRowContext(ctx, `SELECT pseudonym('customer_id', ?)`, crm).Scan(&token); err != nil {
			t.Fatal(err)
		}
		first, last := whtest.SealNames(t, ks, token, "Zoé", "Marchal")
		s, _ := vault.ParseSubject(token)
		subjects = append(subjects, s)
		if i >= 2 {
			continue // CRM-3 and CRM-4: a key, no vault row
		}
		if _, err := wh.DB.ExecContext(ctx, `INSERT INTO vault.pii (subject_token, customer_key, updated_at, first_name, last_name, run_id)
VALUES (?, ?, now(), ?, ?, 'r0')`, token, fmt.Sprintf("%032d", i), first, last); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wh.DB.ExecContext(ctx, `INSERT INTO vault.pii (subject_token, customer_key, updated_at, run_id) VALUES ('not-hex', 'k', now(), 'r0')`); err != nil {
		t.Fatal(err)
	}
	if err := ks.Save(); err != nil {
		t.Fatal(err)
	}
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n, err := sweepOrphanKeys(ctx, wh, conn)
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d keys, %v; want 2", n, err)
	}
	after, err := vault.OpenKeystore(wh.KeystorePath(), master)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range subjects {
		if want := i < 2; after.Has(s) != want {
			t.Errorf("subject %d: key kept %v, want %v", i+1, after.Has(s), want)
		}
	}
	if n, err := sweepOrphanKeys(ctx, wh, conn); err != nil || n != 0 {
		t.Errorf("second sweep: %d keys, %v; want none", n, err)
	}
}

// The forms the quarantine search compares are strings.ToLower's and
// quotes_erased's (RE2 [\s.\-()/] removed), made without allocating.
func TestTextForms(t *testing.T) {
	sep := regexp.MustCompile(`[\s.\-()/]`)
	for _, s := range []string{
		"", "C1,Ann,06.64.35.63.42,Paris", "ANN.DOE@Example.COM", "06\t64\f35\r63\n42 (x)/y-z",
		"ÉLODIE Ça@ÉXAMPLE.fr 06 64", "\v06\v64", "İstanbul 0090 212", "a\u00a0b",
	} {
		if got, want := string(appendLower([]byte("KEPT"), s)), "KEPT"+strings.ToLower(s); got != want {
			t.Errorf("lower %q: %q, want %q", s, got, want)
		}
		if got, want := string(appendStripped([]byte("KEPT"), s)), "KEPT"+sep.ReplaceAllString(s, ""); got != want {
			t.Errorf("stripped %q: %q, want %q", s, got, want)
		}
	}
}

// The night keeps privacy.history_days nights of derived history (its own
// and the days-1 before) and deletes older days, saying so in the audit
// trail; 0 keeps it all. Features of night D have cut-off D + 1.
func TestHistoryDays(t *testing.T) {
	night := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		days int
		want string // oldest night kept in features, churn, clv, segments
	}{
		{35, "2026-10-17"}, // 2026-11-20 minus 34 days
		{2, "2026-11-19"},
		{0, "2026-10-01"}, // everything planted
	} {
		cfg := config.Default()
		cfg.Privacy.HistoryDays = tc.days
		master := make([]byte, 32)
		wh, _ := whtest.OpenVault(t, &cfg, master)
		if err := ingest.Prepare(context.Background(), wh, nil); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO consent.intervals VALUES ('k1', 'analytics', TIMESTAMPTZ '2026-01-01 00:00:00+00', NULL, 'open', 'c1', 'crm')`,
			`INSERT INTO analytics.customer_features (cutoff, customer_key) SELECT CAST(d AS DATE) + 1, 'k1' FROM generate_series(DATE '2026-10-01', DATE '2026-11-20', INTERVAL 1 DAY) t(d)`,
			`INSERT INTO analytics.churn_scores (scored_on, customer_key, model_id, probability, risk_band) SELECT CAST(d AS DATE), 'k1', 'm', 0.5, 'medium' FROM generate_series(DATE '2026-10-01', DATE '2026-11-20', INTERVAL 1 DAY) t(d)`,
			`INSERT INTO analytics.clv_scores (scored_on, customer_key, model_id) SELECT CAST(d AS DATE), 'k1', 'm' FROM generate_series(DATE '2026-10-01', DATE '2026-11-20', INTERVAL 1 DAY) t(d)`,
			`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key) SELECT CAST(d AS DATE), 'rfm', 'champions', 'k1' FROM generate_series(DATE '2026-10-01', DATE '2026-11-20', INTERVAL 1 DAY) t(d)`,
		} {
			if _, err := wh.DB.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		env := &orchestration.Env{Date: night, RunID: "r1", Config: &cfg, WH: wh, Log: zerolog.Nop()}
		if _, err := New().Run(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		var got, audit string
		if err := wh.DB.QueryRow(`SELECT concat_ws(' ',
  (SELECT min(cutoff) - 1 FROM analytics.customer_features), (SELECT max(cutoff) - 1 FROM analytics.customer_features),
  (SELECT min(scored_on) FROM analytics.churn_scores), (SELECT min(scored_on) FROM analytics.clv_scores),
  (SELECT min(computed_on) FROM analytics.segment_members), (SELECT max(computed_on) FROM analytics.segment_members))`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := strings.Join([]string{tc.want, "2026-11-20", tc.want, tc.want, tc.want, "2026-11-20"}, " "); got != want {
			t.Errorf("history_days %d: oldest and newest nights kept %s, want %s", tc.days, got, want)
		}
		if err := wh.DB.QueryRow(`SELECT coalesce(string_agg(target || '=' || rows, ' ' ORDER BY target), '') FROM ops.privacy_audit
WHERE action = 'retention' AND detail LIKE '%history_days%'`).Scan(&audit); err != nil {
			t.Fatal(err)
		}
		gone := 0
		if tc.days > 0 {
			gone = 51 - tc.days // 51 nights planted
		}
		want := ""
		if gone > 0 {
			want = fmt.Sprintf("analytics.churn_scores=%[1]d analytics.clv_scores=%[1]d analytics.customer_features=%[1]d analytics.segment_members=%[1]d", gone)
		}
		if audit != want {
			t.Errorf("history_days %d: audit %q, want %q", tc.days, audit, want)
		}
	}
}
