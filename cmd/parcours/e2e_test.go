package main

// End-to-end tests: they build the parcours binary, generate extracts with
// the fixtures generator, run the CLI as a scheduler would, and check the
// warehouse against the generator's planted truth.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/fixtures"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/internal/warehouse/whtest"
	"github.com/parcours/parcours/jobs/split"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary and the data sets the tests shared: they
// live outside any test's TempDir (built once per process), and each run
// would otherwise leave a few hundred MB in the system temp folder.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	datasets.Range(func(_, v any) bool {
		if d := v.(*sharedDataset); d.dir != "" {
			_ = os.RemoveAll(d.dir)
		}
		return true
	})
	os.Exit(code)
}

// binary builds parcours once per test process, with the same tags as the
// Makefile.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test (builds the binary)")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parcours-e2e-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "parcours")
		cmd := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the binary with no terminal (JSON logs) and no inherited
// PARCOURS_* variables, so the key file in the warehouse is used.
func cli(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir = t.TempDir() // exports and other relative paths stay out of the source tree
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARCOURS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("parcours %s: %v", strings.Join(args, " "), err)
	}
	return result{code, out.String(), errb.String()}
}

func mustCLI(t *testing.T, args ...string) result {
	t.Helper()
	r := cli(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("parcours %s: exit %d\nstderr:\n%s\nstdout:\n%s", strings.Join(args, " "), r.code, tail(r.stderr, 30), tail(r.stdout, 30))
	}
	return r
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dataset generates a data set once per test process and options.
var datasets sync.Map // key -> *sharedDataset

type sharedDataset struct {
	once sync.Once
	dir  string
	err  error
}

func dataset(t *testing.T, customers, days int, seed uint64) string {
	t.Helper()
	key := fmt.Sprintf("%d-%d-%d", customers, days, seed)
	v, _ := datasets.LoadOrStore(key, &sharedDataset{})
	d := v.(*sharedDataset)
	d.once.Do(func() {
		dir, err := os.MkdirTemp("", "parcours-e2e-data")
		if err != nil {
			d.err = err
			return
		}
		d.dir = dir
		_, d.err = fixtures.Generate(context.Background(), fixtures.Options{Customers: customers, Days: days, Seed: seed, Out: dir, Workers: runtime.GOMAXPROCS(0)})
	})
	if d.err != nil {
		t.Fatal(d.err)
	}
	return d.dir
}

// pinKeys writes the warehouse's key file before its first run, with a
// master key and pepper fixed by seed: customer keys, hence the order
// customers are sampled in, are then the same from run to run, and a
// test that depends on them (clusters) fails or passes everywhere alike.
func pinKeys(t *testing.T, wh string, seed byte) {
	t.Helper()
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, keys.Size)) }
	kf := fmt.Sprintf(`{"version": 1, "master_key": %q, "pepper": %q, "created_at": "2026-01-01T00:00:00Z"}`, key(seed), key(seed+1))
	if err := os.MkdirAll(wh, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wh, "parcours.key"), []byte(kf+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies a data set so a test can damage it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// queryCSV runs `parcours query --format csv` and returns the records
// without the header.
func queryCSV(t *testing.T, wh, q string) [][]string {
	t.Helper()
	return queryRead(t, wh, nil, q)
}

// queryRead is queryCSV letting the statement read files under dirs too
// (`query --read`), such as a data set's truth files.
func queryRead(t *testing.T, wh string, dirs []string, q string) [][]string {
	t.Helper()
	args := []string{"query", "--warehouse", wh, "--format", "csv"}
	for _, d := range dirs {
		args = append(args, "--read", d)
	}
	r := mustCLI(t, append(args, q)...)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("query output: %v\n%s", err, r.stdout)
	}
	if len(recs) == 0 {
		t.Fatalf("query returned no header: %q", r.stdout)
	}
	return recs[1:]
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func lastDate(t *testing.T, data string) string {
	t.Helper()
	return readManifest(t, data).Last
}

// readManifest reads a generated data set's manifest.json.
func readManifest(t *testing.T, data string) fixtures.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m fixtures.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The nightly run over generated extracts: every input row is loaded,
// quarantined or dropped as a re-delivery; the quarantine is exactly the
// planted malformed rows; stitching matches the planted identities.
func TestNightlyAgainstTruth(t *testing.T) {
	data := dataset(t, 2000, 60, 5)
	wh := t.TempDir()
	date := lastDate(t, data)
	// Ingest alone first: landing is staging, emptied at the end of a
	// nightly run, so what ingest loaded is checked before the rest runs.
	mustCLI(t, "run", "ingest", "--date", date, "--input", data, "--warehouse", wh)
	t.Run("every row accounted for", func(t *testing.T) {
		b, _ := os.ReadFile(filepath.Join(data, "manifest.json"))
		var m fixtures.Manifest
		_ = json.Unmarshal(b, &m)
		want := map[string]int64{}
		for _, f := range m.Files {
			want[f.Path] = f.Rows
		}
		got := queryCSV(t, wh, `SELECT file, status, rows_read, rows_loaded + rows_quarantined + rows_duplicate FROM ops.ingest_files`)
		seen := 0
		for _, r := range got {
			rows, ok := want[r[0]]
			if !ok {
				continue // reference snapshots are not in the manifest's per-day list
			}
			seen++
			if r[1] != "loaded" {
				t.Errorf("%s: status %s", r[0], r[1])
			}
			if atoi(t, r[2]) != rows || atoi(t, r[3]) != rows {
				t.Errorf("%s: file has %d rows, ingest read %s and accounted for %s", r[0], rows, r[2], r[3])
			}
		}
		if seen != len(want) {
			t.Errorf("ops.ingest_files lists %d of the %d extracts", seen, len(want))
		}
		// Event tables hold exactly the loaded rows.
		for _, src := range []string{"web_events", "app_events", "email_events", "pos_transactions"} {
			r := queryCSV(t, wh, fmt.Sprintf(`SELECT (SELECT count(*) FROM landing.%s), (SELECT sum(rows_loaded) FROM ops.ingest_files WHERE source = '%s')`, src, src))
			if r[0][0] != r[0][1] {
				t.Errorf("landing.%s holds %s rows, ingest_files says %s loaded", src, r[0][0], r[0][1])
			}
		}
	})

	t.Run("quarantine is the planted malformed rows", func(t *testing.T) {
		truth := queryRead(t, wh, []string{data}, fmt.Sprintf(`
SELECT t.file, t.line, t.kind, q.reason
FROM read_csv('%s', all_varchar = true) t
FULL JOIN ops.quarantine q ON q.file = t.file AND q.line = CAST(t.line AS BIGINT)
WHERE t.file IS NULL OR q.file IS NULL`, filepath.Join(data, "truth", "malformed.csv")))
		for _, r := range truth {
			if r[0] == "" {
				t.Errorf("quarantined but not planted: %v", r)
			} else {
				t.Errorf("planted %s at %s:%s but not quarantined", r[2], r[0], r[1])
			}
		}
		n := queryCSV(t, wh, `SELECT count(*), count(*) FILTER (WHERE reason IS NULL OR reason = '' OR line IS NULL) FROM ops.quarantine`)
		if atoi(t, n[0][0]) < 50 || n[0][1] != "0" {
			t.Errorf("quarantine: %v rows, %v without reason or line", n[0][0], n[0][1])
		}
	})

	quarantined := atoi(t, queryCSV(t, wh, `SELECT count(*) FROM ops.quarantine`)[0][0])
	summary := filepath.Join(t.TempDir(), "summary.json")
	exports := t.TempDir()
	if r := cli(t, []string{"PARCOURS_EXPORT_DIR=" + exports}, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh, "--summary-json", summary); r.code != 0 {
		t.Fatalf("nightly: exit %d\n%s", r.code, tail(r.stderr, 30))
	}

	var s struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
		Jobs     []struct {
			Job    string `json:"job"`
			Status string `json:"status"`
			RowsIn int64  `json:"rows_in"`
		} `json:"jobs"`
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Status != "succeeded" || s.ExitCode != 0 || len(s.Jobs) < 2 {
		t.Fatalf("summary: %s", b)
	}

	t.Run("landing emptied, quarantine kept but for erased subjects", func(t *testing.T) {
		for _, src := range []string{"web_events", "app_events", "email_events", "pos_transactions", "crm_customers", "consents"} {
			if n := queryCSV(t, wh, "SELECT count(*) FROM landing."+src)[0][0]; n != "0" {
				t.Errorf("landing.%s still holds %s rows after the nightly run", src, n)
			}
		}
		r := queryCSV(t, wh, `SELECT (SELECT count(*) FROM ops.quarantine),
  (SELECT coalesce(sum(rows), 0) FROM ops.privacy_audit WHERE action = 'erase' AND target = 'ops.quarantine')`)
		if atoi(t, r[0][0])+atoi(t, r[0][1]) != quarantined {
			t.Errorf("quarantine: %s rows + %s scrubbed by erasures, want the %d quarantined", r[0][0], r[0][1], quarantined)
		}
	})

	// The split writes each batch's hot facts by month, then customer, then
	// time (what makes purges and erasures read customer keys fast).
	t.Run("hot facts stored by month, customer and time", func(t *testing.T) {
		for _, table := range split.HotTables() {
			r := queryCSV(t, wh, fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE pm > m OR (pm = m AND (pk > k OR (pk = k AND pt > ts))))
FROM (SELECT date_trunc('month', event_date) AS m, customer_key AS k, ts,
             lag(date_trunc('month', event_date)) OVER w AS pm, lag(customer_key) OVER w AS pk, lag(ts) OVER w AS pt
      FROM analytics.%s WINDOW w AS (PARTITION BY _batch ORDER BY rowid))`, table))
			if r[0][1] != "0" || (atoi(t, r[0][0]) == 0 && (table == "web_events" || table == "email_events")) {
				t.Errorf("analytics.%s: %s rows, %s out of order", table, r[0][0], r[0][1])
			}
		}
	})

	t.Run("cold holds no identifier and no row under k", func(t *testing.T) {
		// Every identifier the generator handed out, raw and normalised, every
		// name in the CRM extracts, and every customer key.
		forbidden := fmt.Sprintf(`WITH forbidden AS MATERIALIZED (
SELECT DISTINCT v FROM (
  SELECT unnest([value, lower(trim(value)), norm_phone(value)]) AS v FROM read_csv('%[1]s', all_varchar = true)
  UNION ALL SELECT unnest([first_name, last_name, first_name || ' ' || last_name, customer_id, loyalty_card, email, phone])
  FROM read_csv('%[2]s', all_varchar = true, union_by_name = true)
  UNION ALL SELECT customer_key FROM identity.customers
) WHERE v IS NOT NULL AND v <> '')`, filepath.Join(data, "truth", "identities.csv"), filepath.Join(data, "*", "crm_customers.csv"))
		cols := queryCSV(t, wh, `SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_catalog = 'cold' ORDER BY 1, 2`)
		tables := map[string]bool{}
		var checks []string
		for _, c := range cols {
			tables[c[0]] = true
			if c[2] == "VARCHAR" {
				checks = append(checks, fmt.Sprintf(`SELECT '%[1]s.%[2]s', count(*) FROM cold.main.%[1]s WHERE %[2]s IN (SELECT v FROM forbidden)`, c[0], c[1]))
				checks = append(checks, fmt.Sprintf(`SELECT 'export %[1]s.%[2]s', count(*) FROM read_parquet('%[3]s') WHERE %[2]s IN (SELECT v FROM forbidden)`,
					c[0], c[1], filepath.Join(exports, "cold", c[0]+".parquet")))
			}
			if c[1] == "customers" {
				checks = append(checks, fmt.Sprintf(`SELECT '%[1]s under k', count(*) FROM cold.main.%[1]s WHERE customers < 10`, c[0]))
			}
		}
		if len(tables) < 6 || len(checks) < 10 {
			t.Fatalf("cold store has %d tables, %d checks", len(tables), len(checks))
		}
		res := queryRead(t, wh, []string{data, exports}, forbidden+"\n"+strings.Join(checks, "\nUNION ALL\n"))
		for _, r := range res {
			if r[1] != "0" {
				t.Errorf("%s: %s forbidden values", r[0], r[1])
			}
		}
		if n := atoi(t, queryRead(t, wh, []string{data}, forbidden+"\nSELECT count(*) FROM forbidden")[0][0]); n < 5000 {
			t.Errorf("only %d forbidden values: the scan would prove little", n)
		}
		// Every attribution model credits each month's conversions (every
		// journey's, touched or not), never more; all of them unless a month
		// withheld a row under k: its channels under k had fewer than k
		// converting customers together ('other channels' missing), or its
		// touchless conversions did.
		bad := queryCSV(t, wh, `WITH total AS (
    SELECT month, sum(conversions) AS conv FROM ops.cold_contrib_conversion_paths WHERE path <> '*' GROUP BY month
), conv AS (
    SELECT month, channel, sum(customers) AS n FROM ops.cold_contrib_path_channels GROUP BY ALL
), whole AS (
    SELECT month FROM conv GROUP BY month
    HAVING (bool_and(n >= 10 OR channel = '(no touch)')
            OR month IN (SELECT month FROM cold.attribution WHERE channel = 'other channels'))
       AND coalesce(bool_and(n >= 10) FILTER (WHERE channel = '(no touch)'), true)
)
SELECT a.month, a.model, sum(a.conversions), any_value(p.conv), a.month IN (SELECT month FROM whole)
FROM cold.attribution a JOIN total p USING (month)
GROUP BY a.month, a.model
HAVING sum(a.conversions) > any_value(p.conv) + 1e-6
    OR (a.month IN (SELECT month FROM whole) AND abs(sum(a.conversions) - any_value(p.conv)) > 1e-6)`)
		for _, b := range bad {
			t.Errorf("cold.attribution %s %s credits %s conversions of %s (nothing withheld: %s)", b[0], b[1], b[2], b[3], b[4])
		}
		if n := queryCSV(t, wh, `SELECT count(*) FROM cold.attribution WHERE channel NOT IN ('other channels', '(unattributed)')`)[0][0]; n == "0" {
			t.Error("cold.attribution credits no channel")
		}
		for _, tbl := range []string{"daily_activity", "funnel_daily", "cohort_retention", "survey_scores", "conversion_paths", "attribution"} {
			if n := queryCSV(t, wh, "SELECT count(*) FROM cold."+tbl)[0][0]; n == "0" {
				t.Errorf("cold.%s is empty", tbl)
			}
		}
	})

	t.Run("identity precision and recall", func(t *testing.T) {
		p, r := pairwise(t, wh, data)
		t.Logf("pairwise precision %.4f recall %.4f", p, r)
		if p < 0.995 || r < 0.97 {
			t.Errorf("pairwise precision %.4f (want ≥ 0.995), recall %.4f (want ≥ 0.97)", p, r)
		}
	})

	t.Run("planted shared mailboxes and the generic store card are blocked", func(t *testing.T) {
		r := queryRead(t, wh, []string{data}, fmt.Sprintf(`SELECT s.kind, s.value, coalesce(m.blocked, false)
FROM read_csv('%s', all_varchar = true) s
LEFT JOIN identity.customer_map m ON m.id_token = pseudonym(s.type, CASE s.type WHEN 'email' THEN norm_email(s.value) ELSE s.value END)
WHERE s.kind IN ('shared_mailbox', 'store_generic_card')`, filepath.Join(data, "truth", "shared_identifiers.csv")))
		kinds := map[string]bool{}
		for _, x := range r {
			kinds[x[0]] = true
			if x[2] != "true" {
				t.Errorf("%s %s is not blocked", x[0], x[1])
			}
		}
		if !kinds["shared_mailbox"] || !kinds["store_generic_card"] {
			t.Errorf("truth lists %v", kinds)
		}
	})

	t.Run("explain", func(t *testing.T) {
		id := queryRead(t, wh, []string{data}, fmt.Sprintf(`SELECT value FROM read_csv('%s', all_varchar = true) WHERE type = 'email' LIMIT 1`, filepath.Join(data, "truth", "identities.csv")))[0][0]
		out := mustCLI(t, "identity", "explain", "--warehouse", wh, id).stdout
		if !strings.Contains(out, "customer_key") && !strings.Contains(out, "customer") {
			t.Errorf("explain %s:\n%s", id, out)
		}
	})
}

// pairwise compares stitched customers with the planted persons over every
// identifier both know: precision is the share of identifier pairs put
// together that belong to one person, recall the share of one person's
// pairs put together. Identifiers the truth gives to several persons
// (family cookies, shared mailboxes) have no right answer and are left out;
// identifiers the guard blocked count as singletons, so blocking a real
// identifier costs recall.
func pairwise(t *testing.T, wh, data string) (precision, recall float64) {
	t.Helper()
	r := queryRead(t, wh, []string{data}, fmt.Sprintf(`
WITH t AS (
    SELECT person_id, type, value FROM read_csv('%s', all_varchar = true)
), tok AS (
    SELECT pseudonym(type, value) AS id_token, any_value(person_id) AS person_id
    FROM t GROUP BY 1 HAVING count(DISTINCT person_id) = 1
), cells AS (
    SELECT tok.person_id, CASE WHEN m.blocked THEN m.id_token ELSE m.customer_key END AS ck, count(*) AS n
    FROM tok JOIN identity.customer_map m USING (id_token)
    GROUP BY ALL
)
SELECT
  (SELECT sum(n * (n - 1) / 2) FROM cells),
  (SELECT sum(n * (n - 1) / 2) FROM (SELECT sum(n) AS n FROM cells GROUP BY ck)),
  (SELECT sum(n * (n - 1) / 2) FROM (SELECT sum(n) AS n FROM cells GROUP BY person_id)),
  (SELECT sum(n) FROM cells)`, filepath.Join(data, "truth", "identities.csv")))
	tp, pred, truth, ids := atoi(t, r[0][0]), atoi(t, r[0][1]), atoi(t, r[0][2]), atoi(t, r[0][3])
	if ids < 1000 || pred == 0 || truth == 0 {
		t.Fatalf("only %d identifiers matched the truth (pairs: %d predicted, %d true)", ids, pred, truth)
	}
	return float64(tp) / float64(pred), float64(tp) / float64(truth)
}

// Without the over-merge guard, shared mailboxes, placeholder phones and
// family computers glue different people together: the guard is what keeps
// precision up, so turning it off must cost precision on the same data.
func TestOverMergeGuardMatters(t *testing.T) {
	data := dataset(t, 2000, 60, 5)
	cfg := filepath.Join(t.TempDir(), "parcours.yaml")
	if err := os.WriteFile(cfg, []byte("identity:\n  max_customer_ids: 1000000\n  max_customers_per_device: 1000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wh := t.TempDir()
	date := lastDate(t, data)
	mustCLI(t, "run", "nightly", "--config", cfg, "--date", date, "--input", data, "--warehouse", wh)
	p, r := pairwise(t, wh, data)
	t.Logf("guard off: precision %.4f recall %.4f", p, r)
	if p >= 0.995 {
		t.Errorf("with the guard off precision is still %.4f: the planted shared identifiers do not test the guard", p)
	}
}

// tableChecksums fingerprints every table of the warehouse, leaving out
// the columns that name a run or the time it happened.
func tableChecksums(t *testing.T, wh string, ignore ...string) map[string]warehouse.Checksum {
	t.Helper()
	db, err := sql.Open("duckdb", warehouse.HotPath(wh)+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("ATTACH '%s' AS cold (READ_ONLY)", warehouse.ColdPath(wh))); err != nil {
		t.Fatal(err)
	}
	tables := whtest.Strings(t, db, `SELECT CASE WHEN table_catalog = 'cold' THEN 'cold.' || table_name ELSE table_schema || '.' || table_name END
FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1`)
	out := map[string]warehouse.Checksum{}
	for _, tbl := range tables {
		if tbl == "ops.job_runs" || tbl == "ops.privacy_audit" {
			continue // the ledger and the audit log record each run by design
		}
		// ops.quarantine's id is a surrogate drawn from a sequence.
		c, err := warehouse.TableChecksum(ctx, db, tbl, append([]string{"id", "run_id", "_run_id", "loaded_at", "quarantined_at", "detected_at", "modified_at"}, ignore...)...)
		if err != nil {
			t.Fatalf("checksum %s: %v", tbl, err)
		}
		out[tbl] = c
	}
	if len(out) < 15 {
		t.Fatalf("only %d tables in the warehouse: %v", len(out), tables)
	}
	return out
}

func diffChecksums(t *testing.T, what string, a, b map[string]warehouse.Checksum) {
	t.Helper()
	var names []string
	for k := range a {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if a[k] != b[k] {
			t.Errorf("%s: %s changed: %+v -> %+v", what, k, a[k], b[k])
		}
	}
	if len(a) != len(b) {
		t.Errorf("%s: %d tables before, %d after", what, len(a), len(b))
	}
}

// Running a date twice, or forcing it, leaves every table as it was.
func TestRerunIsIdempotent(t *testing.T) {
	data := dataset(t, 800, 30, 9)
	wh := t.TempDir()
	date := lastDate(t, data)
	mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh)
	first := tableChecksums(t, wh)

	r := mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh)
	if !strings.Contains(r.stdout+r.stderr, "already_done") {
		t.Errorf("rerun did not report the jobs already done:\n%s", tail(r.stdout+r.stderr, 10))
	}
	diffChecksums(t, "rerun", first, tableChecksums(t, wh))

	mustCLI(t, "run", "nightly", "--force", "--date", date, "--input", data, "--warehouse", wh)
	diffChecksums(t, "--force rerun", first, tableChecksums(t, wh))

	// Rebuilt from scratch, the same input gives the same customer keys.
	wh2 := t.TempDir()
	if err := copyKeyFile(wh, wh2); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh2)
	rebuilt := tableChecksums(t, wh2)
	for _, tbl := range []string{"identity.customer_map", "identity.customers", "identity.identifiers", "landing.web_events", "ops.quarantine"} {
		if first[tbl] != rebuilt[tbl] {
			t.Errorf("rebuilt warehouse: %s differs: %+v vs %+v", tbl, first[tbl], rebuilt[tbl])
		}
	}
}

// copyKeyFile gives a second warehouse the first one's secrets, as an
// operator rebuilding a warehouse would.
func copyKeyFile(from, to string) error {
	b, err := os.ReadFile(filepath.Join(from, "parcours.key"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(to, "parcours.key"), b, 0o600)
}

// Damaged extracts end where the contract says, and nothing else is lost.
func TestBadInput(t *testing.T) {
	data := copyTree(t, dataset(t, 800, 30, 9))
	date := lastDate(t, data)
	day := filepath.Join(data, date)

	// A truncated JSON line at the end of the web events.
	web := filepath.Join(day, "web_events.jsonl")
	webLines := appendText(t, web, `{"event_id":"trunc-1","ts":"2026-11-22T10:00:00Z","cookie_id":"ck_x","event`+"\n")
	// A till receipt with an impossible date.
	pos := filepath.Join(day, "pos_transactions.csv")
	posLines := appendText(t, pos, "R-BAD-1,S001,2026-13-45 25:61:00,,\"[]\",12.50,0,card\n")
	// A contacts file without its required contact_id column.
	cc := filepath.Join(day, "callcenter_contacts.csv")
	recs := readAll(t, cc)
	for i := range recs {
		recs[i] = recs[i][1:]
	}
	writeAll(t, cc, recs)

	wh := t.TempDir()
	summary := filepath.Join(t.TempDir(), "summary.json")
	r := cli(t, nil, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh, "--summary-json", summary)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (ingest fails on the missing column)\n%s", r.code, tail(r.stderr, 20))
	}
	all := r.stdout + r.stderr
	if !strings.Contains(all, date+"/callcenter_contacts.csv") || !strings.Contains(all, "missing required column contact_id") {
		t.Errorf("error does not name the file and the column:\n%s", tail(all, 20))
	}
	if b, err := os.ReadFile(summary); err != nil || !bytes.Contains(b, []byte(`"failed"`)) {
		t.Errorf("summary of a failed run: %s (%v)", b, err)
	}

	q := queryCSV(t, wh, fmt.Sprintf(`SELECT source, line, coalesce(field, ''), reason FROM ops.quarantine
WHERE file IN ('%s/web_events.jsonl', '%s/pos_transactions.csv') AND (raw LIKE '%%trunc-1%%' OR raw LIKE '%%R-BAD-1%%') ORDER BY source`, date, date))
	if len(q) != 2 {
		t.Fatalf("quarantine of the damaged rows: %v", q)
	}
	if q[0][0] != "pos_transactions" || atoi(t, q[0][1]) != int64(posLines) || q[0][2] != "ts" {
		t.Errorf("bad date: %v, want line %d field ts", q[0], posLines)
	}
	if q[1][0] != "web_events" || atoi(t, q[1][1]) != int64(webLines) || !strings.Contains(q[1][3], "JSON") {
		t.Errorf("truncated line: %v, want line %d and a JSON reason", q[1], webLines)
	}

	// Every row of every other file is loaded, quarantined or a duplicate;
	// the file with the missing column is recorded as failed, nothing loaded.
	rows := queryCSV(t, wh, `SELECT file, status, rows_read, rows_loaded + rows_quarantined + rows_duplicate, coalesce(error, '') FROM ops.ingest_files`)
	for _, row := range rows {
		if strings.HasSuffix(row[0], "callcenter_contacts.csv") && strings.HasPrefix(row[0], date) {
			if row[1] != "failed" || !strings.Contains(row[4], "contact_id") {
				t.Errorf("contacts file: %v", row)
			}
			continue
		}
		lines := countRows(t, filepath.Join(data, row[0]))
		if lines >= 0 && (atoi(t, row[2]) != int64(lines) || row[2] != row[3]) {
			t.Errorf("%s: %d rows in file, read %s, accounted for %s", row[0], lines, row[2], row[3])
		}
	}
	// The next run retries the failed file once it is fixed.
	writeAll(t, cc, readAll(t, filepath.Join(dataset(t, 800, 30, 9), date, "callcenter_contacts.csv")))
	mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh)
	st := queryCSV(t, wh, fmt.Sprintf(`SELECT status FROM ops.ingest_files WHERE file = '%s/callcenter_contacts.csv'`, date))
	if len(st) != 1 || st[0][0] != "loaded" {
		t.Errorf("fixed contacts file after resume: %v", st)
	}
}

// appendText appends to a file and returns the 1-based line number of the
// first appended line.
func appendText(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, s...), 0o644); err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n")) + 1
}

func readAll(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func writeAll(t *testing.T, path string, recs [][]string) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(recs)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// countRows counts data rows of a CSV or JSON-lines file; -1 for others.
func countRows(t *testing.T, path string) int {
	t.Helper()
	switch {
	case strings.HasSuffix(path, ".jsonl"):
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(b, []byte("\n"))
	case strings.HasSuffix(path, ".csv"):
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		n := 0
		for {
			_, err := r.Read()
			if err != nil {
				break
			}
			n++
		}
		return n - 1
	}
	return -1
}

// A second run against a warehouse another process holds exits 75 at once,
// naming the holder.
func TestConcurrentRunExits75(t *testing.T) {
	data := dataset(t, 300, 5, 21)
	wh := t.TempDir()
	lock, err := warehouse.AcquireLock(wh, true, "parcours run nightly (held by the test)")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	start := time.Now()
	r := cli(t, nil, "run", "nightly", "--date", lastDate(t, data), "--input", data, "--warehouse", wh)
	if r.code != 75 {
		t.Fatalf("exit %d, want 75\n%s", r.code, tail(r.stderr, 10))
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(r.stderr, "held by the test") {
		t.Errorf("message does not name the holder:\n%s", r.stderr)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("the second run waited %s instead of exiting at once", d)
	}
	// Reading commands are refused too while a run writes.
	if r := cli(t, nil, "status", "--warehouse", wh); r.code != 0 && r.code != 75 {
		t.Errorf("status while locked: exit %d\n%s", r.code, r.stderr)
	}
}

// Usage errors exit 2 with a message, before anything runs.
func TestUsageErrors(t *testing.T) {
	wh := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad date", []string{"run", "nightly", "--date", "2026-13-01", "--warehouse", wh}, "date"},
		{"unknown job", []string{"run", "nosuchjob", "--date", "2026-11-22", "--warehouse", wh}, "nosuchjob"},
		{"unknown flag", []string{"run", "nightly", "--dat", "2026-11-22"}, "dat"},
		{"bad config key", []string{"config", "--config", writeFile(t, "ingest:\n  reject_treshold: 0.1\n")}, "reject_treshold"},
		// Sections their job checks are checked with the rest.
		{"misspelt trigger", []string{"config", "--config", writeFile(t, "triggers:\n  channels:\n    winback: sms\n")}, `triggers.channels: "winback" is not a trigger`},
		{"bad k range", []string{"run", "nightly", "--date", "2026-11-22", "--warehouse", wh, "--config", writeFile(t, "segments:\n  k_min: 5\n  k_max: 3\n")}, "segments.k_min"},
		// A destination's own keys are its connector's: a misspelt common
		// key is named even though it also leaves segments missing.
		{"misspelt destination key", []string{"config", "--config", writeFile(t, "activation:\n  destinations:\n  - name: out\n    type: filedrop\n"+
			"    outbox: /tmp/out\n    format: csv\n    purpose: personalization\n    mode: upsert\n    segmnets: [rfm:loyal]\n")},
			"segmnets: not a key of a filedrop destination"},
		{"key of another type", []string{"config", "--config", writeFile(t, "activation:\n  destinations:\n  - name: out\n    type: filedrop\n"+
			"    outbox: /tmp/out\n    format: csv\n    url: https://x\n    purpose: personalization\n    mode: upsert\n    segments: [rfm:loyal]\n")},
			"url: not a key of a filedrop destination"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, nil, c.args...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and a message naming %q", r.code, r.stderr, c.want)
			}
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "parcours.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// Personal data planted in every way ingest can reject input (a file
// without its header, bad values over the threshold, broken JSON, a
// Parquet column of the wrong type) never reaches stderr, the run ledger,
// ops.ingest_files or status --json.
func TestRejectionsQuoteNoPersonalData(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	day := filepath.Join(data, "2026-11-22")
	if err := os.MkdirAll(day, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(day, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A CRM export saved without its header line.
	write("crm_customers.csv", "C10000104,benjamin.simon42@gmail.com,07.99.12.34.56,Benjamin,Simon,1960-10-10,75011,Paris,,web,2026-01-01 10:00:00,2026-01-01 10:00:00\n")
	// Survey answers with values in the wrong columns, over the threshold.
	write("surveys.csv", "response_id,ts,customer_id,email,nps,csat,verbatim,channel\n"+
		"S1,2026-11-22T10:00:00Z,C1,,benjamin.simon42@gmail.com,5,call me on 07 99 12 34 56,web\n"+
		"S2,2026-11-22T10:00:00Z,C2,,+33799123456,5,ok,Benjamin Simon\n")
	// Broken JSON lines holding an email and a phone.
	write("web_events.jsonl", `{"event_id":"w1","ts":"2026-11-22T10:00:00Z","cookie_id":"c","event":"page_view","page":"/?email=benjamin.simon42@gmail.com`+"\n"+
		`{"event_id":"w2","phone":"07 99 12 34 56"`+"\n")
	// App events whose Parquet columns have the wrong types and values.
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT 'a1' AS event_id, 1764000000 AS ts, 'benjamin.simon42@gmail.com' AS device_id,
  '+33799123456' AS event) TO '%s' (FORMAT parquet)`, filepath.Join(day, "app_events.parquet"))); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wh := filepath.Join(t.TempDir(), "wh")
	r := cli(t, nil, "run", "nightly", "--date", "2026-11-22", "--input", data, "--warehouse", wh)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (ingest fails)\n%s", r.code, tail(r.stderr, 20))
	}
	status := mustCLI(t, "status", "--json", "--warehouse", wh).stdout
	ledger := queryCSV(t, wh, "SELECT coalesce(string_agg(error, ' | '), '') FROM ops.job_runs")[0][0] + " " +
		queryCSV(t, wh, "SELECT coalesce(string_agg(error, ' | '), '') FROM ops.ingest_files")[0][0]
	if !strings.Contains(ledger, "crm_customers.csv") || !strings.Contains(ledger, "surveys") {
		t.Fatalf("the ledger does not say what failed: %s", ledger)
	}
	for where, text := range map[string]string{"stderr": r.stderr, "stdout": r.stdout, "status --json": status, "ledger": ledger} {
		for _, pii := range []string{"benjamin", "Benjamin", "Simon", "gmail", "07.99", "07 99", "799123456", "C10000104", "1960-10-10"} {
			if strings.Contains(text, pii) {
				i := strings.Index(text, pii)
				t.Errorf("%s quotes %q: …%s…", where, pii, text[max(0, i-80):min(len(text), i+40)])
			}
		}
	}
}

// A disk that fills during a run: the message leads with the cause (the
// disk), never with "ledger finish: FATAL", and no job whose work could
// not be committed or recorded is shown as succeeded. Needs root to mount
// a small tmpfs; skipped otherwise.
func TestFullDiskSaysSo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	data := dataset(t, 2000, 60, 3)
	date := lastDate(t, data)
	for _, size := range []string{"4m", "6m", "20m"} {
		t.Run(size, func(t *testing.T) {
			mnt := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
			}
			defer exec.Command("umount", mnt).Run()
			summary := filepath.Join(t.TempDir(), "summary.json")
			r := cli(t, nil, "run", "nightly", "--date", date, "--input", data, "--warehouse", filepath.Join(mnt, "wh"), "--summary-json", summary)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, tail(r.stderr, 5))
			}
			_, last, _ := strings.Cut(r.stderr, "\nparcours: ")
			if strings.HasPrefix(last, "ledger") || !strings.Contains(strings.SplitN(last, "\n", 2)[0], "No space left on device") {
				t.Errorf("the last line does not lead with the cause: %s", last)
			}
			var sum struct {
				Jobs []struct{ Job, Status, Error string }
			}
			b, err := os.ReadFile(summary)
			if err != nil || json.Unmarshal(b, &sum) != nil {
				t.Fatalf("summary: %v", err)
			}
			failed := false
			for _, j := range sum.Jobs {
				if j.Status == "failed" {
					failed = true
					if !strings.Contains(j.Error, "No space left on device") {
						t.Errorf("%s failed with %q, not the cause", j.Job, j.Error)
					}
				}
				if failed && j.Status == "succeeded" {
					t.Errorf("%s shown succeeded after the disk filled", j.Job)
				}
			}
			if !failed {
				t.Errorf("no job failed: %+v", sum.Jobs)
			}
		})
	}
}

// A warehouse an older parcours left (no schema version, columns added
// since missing): reading it exits 2 naming `parcours migrate`, which
// brings it to the current version; reading then works.
func TestMigrateOldWarehouse(t *testing.T) {
	wh := filepath.Join(t.TempDir(), "wh")
	if r := cli(t, nil, "migrate", "--warehouse", wh); r.code != 0 || !strings.Contains(r.stdout, "nothing to migrate") {
		t.Fatalf("migrate a new warehouse: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	db, err := sql.Open("duckdb", warehouse.HotPath(wh))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"DELETE FROM ops.meta WHERE key = 'schema_version'", "ALTER TABLE ops.models DROP COLUMN decision",
		"ALTER TABLE vault.pii DROP COLUMN name_fps", "ALTER TABLE vault.pii_stage DROP COLUMN name_fps"} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if r := cli(t, nil, "status", "--warehouse", wh); r.code != 2 || !strings.Contains(r.stderr, "parcours migrate --warehouse") {
		t.Fatalf("status of an old warehouse: exit %d, %q; want 2 naming parcours migrate", r.code, r.stderr)
	}
	r := cli(t, nil, "migrate", "--warehouse", wh, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, "migrate.0001.columns_before_versions.sql") || !strings.Contains(r.stdout, "migrate.0002.vault_name_fingerprints.sql") {
		t.Fatalf("migrate: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, nil, "query", "--warehouse", wh, "SELECT count(decision), count(name_fps) FROM ops.models, vault.pii"); r.code != 0 {
		t.Fatalf("query after migrating: exit %d, %q", r.code, r.stderr)
	}
}

// sql_dir reaches the statements that moved out of Go: with a copy of the
// SQL folder whose customers-of-an-identifier section names a planted key,
// model explain finds that key (and says it has no scores) instead of
// answering that no customer holds the identifier.
func TestSQLDirReachesMovedStatements(t *testing.T) {
	wh := filepath.Join(t.TempDir(), "wh")
	mustCLI(t, "migrate", "--warehouse", wh)
	if r := cli(t, nil, "model", "explain", "nobody@example.com", "--warehouse", wh); r.code != 67 {
		t.Fatalf("explain with the embedded SQL: exit %d, %q; want 67", r.code, r.stderr)
	}
	dir := copySQL(t, "privacy.access.sql",
		"SELECT DISTINCT customer_key FROM identity.customer_map WHERE id_token = $token AND NOT blocked ORDER BY 1;",
		"SELECT 'k_from_sql_dir' AS customer_key WHERE $token IS NOT NULL;")
	cfg := writeFile(t, "sql_dir: "+dir+"\n")
	r := cli(t, nil, "model", "explain", "nobody@example.com", "--warehouse", wh, "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "k_from_sql_dir") {
		t.Fatalf("explain with sql_dir: exit %d, %q; want 1 naming the planted key", r.code, r.stderr)
	}
}

// A sql_dir whose copy of a section is misspelt is refused with exit 2
// before the night opens the warehouse, naming file and section.
func TestSQLDirMisspeltSectionExits2(t *testing.T) {
	dir := copySQL(t, "privacy.purge.sql", "-- name: erase_values\n", "-- name: erase_valeus\n")
	wh := filepath.Join(t.TempDir(), "wh")
	cfg := writeFile(t, "sql_dir: "+dir+"\n")
	for _, args := range [][]string{
		{"run", "nightly", "--date", "2026-01-02", "--input", t.TempDir(), "--warehouse", wh, "--config", cfg},
		{"dag", "export", "--format", "dot", "--config", cfg},
	} {
		r := cli(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "privacy.purge.sql#erase_values") {
			t.Errorf("%v: exit %d, %q; want 2 naming privacy.purge.sql#erase_values", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(wh); !os.IsNotExist(err) {
		t.Errorf("the warehouse was touched before validation: %v", err)
	}
}

// copySQL copies the sql folder to a new folder for sql_dir, replacing
// before with after in file name (which must hold it).
func copySQL(t *testing.T, name, before, after string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../sql/*.sql")
	if err != nil || len(files) < 50 {
		t.Fatalf("sql files: %v, %d", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == name {
			if !strings.Contains(string(b), before) {
				t.Fatalf("%s no longer holds %q: update this test", name, before)
			}
			b = []byte(strings.Replace(string(b), before, after, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
