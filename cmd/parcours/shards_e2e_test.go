package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

// shardNight runs one date the sharded way: the route merge, every shard,
// the models merge, every shard, the publish merge, every shard (README
// "Scale-out"). With
// compact, every shard is compacted after its first pass, as the bench
// does on one disk: the later passes and merges must not notice.
func shardNight(t *testing.T, env []string, data, merged string, shards []string, date string, cfg string, compact bool) {
	t.Helper()
	pass := func(n int) {
		for i, s := range shards {
			r := mustCLIEnv(t, env, "--config", cfg, "run", "nightly", "--date", date, "--merged", merged, "--warehouse", s,
				"--shard", fmt.Sprintf("%d/%d", i, len(shards)))
			if n < 3 && !strings.Contains(r.stdout, orchestration.StatusWaiting) {
				t.Fatalf("shard %d pass %d of %s did not stop at a merge gate:\n%s", i, n, date, r.stdout)
			}
			if n == 3 && (strings.Contains(r.stdout, orchestration.StatusWaiting) || !strings.Contains(r.stdout, "succeeded (exit 0)")) {
				t.Fatalf("shard %d, last pass of %s, did not finish every job:\n%s", i, date, r.stdout)
			}
		}
	}
	list := strings.Join(shards, ",")
	mustCLIEnv(t, env, "--config", cfg, "merge", "--stage", "route", "--date", date, "--input", data, "--warehouse", merged, "--shards", list)
	pass(1)
	if compact {
		for _, s := range shards {
			mustCLIEnv(t, env, "--config", cfg, "compact", "--warehouse", s)
		}
	}
	mustCLIEnv(t, env, "--config", cfg, "merge", "--stage", "models", "--date", date, "--warehouse", merged, "--shards", list)
	pass(2)
	mustCLIEnv(t, env, "--config", cfg, "merge", "--stage", "publish", "--date", date, "--warehouse", merged, "--shards", list)
	pass(3)
}

// queryCSVEnv is queryCSV with the shared keys of a sharded set.
func queryCSVEnv(t *testing.T, env []string, wh, q string) [][]string {
	t.Helper()
	r := mustCLIEnv(t, env, "query", "--warehouse", wh, "--format", "csv", q)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("query output: %v\n%s", err, r.stdout)
	}
	return recs[1:]
}

// unionChecksum combines the checksums of disjoint parts of one table:
// row counts add up, row hashes XOR (warehouse.TableChecksum).
func unionChecksum(t *testing.T, parts ...warehouse.Checksum) warehouse.Checksum {
	t.Helper()
	var out warehouse.Checksum
	var x uint64
	for _, p := range parts {
		out.Rows += p.Rows
		v, err := strconv.ParseUint(p.Hash, 10, 64)
		if err != nil {
			t.Fatalf("checksum hash %q: %v", p.Hash, err)
		}
		x ^= v
	}
	out.Hash = strconv.FormatUint(x, 10)
	return out
}

// Four customer shards and their merge give the single node's warehouse:
// every cold table and every segment member, over three nights with an
// erasure and a consent withdrawal, models trained on the merged shards.
func TestShardsEqualSingleNode(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs 4 shards and a single node over 3 nights")
	}
	data := copyDir(t, dataset(t, 1500, 120, 5))
	last := lastDate(t, data)
	dates := []string{dayBefore(t, last, 2), dayBefore(t, last, 1), last}
	// churn_train_sample below the customers of a cut-off: the shards send
	// their smallest keys, the merge must keep the single node's sample.
	const sample = 200
	cfg := writeFile(t, fmt.Sprintf("models:\n  churn_horizon_days: 30\n  retrain_days: 1\n  churn_train_sample: %d\n", sample))
	env := []string{"PARCOURS_PEPPER=" + randomKey(), "PARCOURS_MASTER_KEY=" + randomKey()}

	single, merged := t.TempDir(), t.TempDir()
	shards := make([]string, 4)
	for i := range shards {
		shards[i] = t.TempDir()
	}
	// An erasure and an analytics withdrawal arrive with the second night.
	appendLine(t, filepath.Join(data, dates[1], "erasure_requests.csv"),
		fmt.Sprintf("TEST-ERASE-1,%sT08:00:00Z,C10000041,customer_id", dates[1]))
	appendLine(t, filepath.Join(data, dates[1], "consents.csv"),
		fmt.Sprintf("TEST-WITHDRAW-1,C10000042,customer_id,analytics,withdrawn,%sT09:00:00Z,,preference_centre", dates[1]))
	// A broken line quoting the erased customer's email, which only their
	// vault entry (on their shard) tells: the merged warehouse's quarantine
	// must lose it all the same.
	email := crmEmail(t, data, "C10000041")
	appendLine(t, filepath.Join(data, dates[1], "web_events.jsonl"),
		fmt.Sprintf(`{"event_id":"TEST-BROKEN-1","ts":"%sT10:00:00Z","page":"/?email=%s`, dates[1], email))

	for _, d := range dates {
		mustCLIEnv(t, env, "--config", cfg, "run", "nightly", "--date", d, "--input", data, "--warehouse", single)
		shardNight(t, env, data, merged, shards, d, cfg, d == dates[0])
	}

	for name, wh := range map[string]string{"single node": single, "merged warehouse": merged} {
		if n := queryCSVEnv(t, env, wh, fmt.Sprintf("SELECT count(*) FROM ops.quarantine WHERE contains(lower(raw), '%s')", email))[0][0]; n != "0" {
			t.Errorf("%s: %s quarantined rows still quote the erased customer's email", name, n)
		}
	}
	if n := queryCSVEnv(t, env, merged, "SELECT coalesce(sum(rows), 0) FROM ops.privacy_audit WHERE action = 'erase' AND target = 'ops.quarantine'")[0][0]; n == "0" {
		t.Error("the merged warehouse scrubbed no quarantined row: the planted line proves nothing")
	}

	ignore := []string{"_batch", "batch", "updated_at", "model_id"}
	want := tableChecksums(t, single, ignore...)
	got := tableChecksums(t, merged, ignore...)
	parts := make([]map[string]warehouse.Checksum, len(shards))
	for i, s := range shards {
		parts[i] = tableChecksums(t, s, ignore...)
	}
	// 1. Every cold table, published once from the summed shards.
	var cold []string
	for tbl := range want {
		if strings.HasPrefix(tbl, "cold.") {
			cold = append(cold, tbl)
		}
	}
	sort.Strings(cold)
	if len(cold) < 12 {
		t.Fatalf("only %d cold tables: %v", len(cold), cold)
	}
	for _, tbl := range cold {
		if want[tbl].Rows == 0 {
			t.Errorf("%s is empty on the single node: the comparison proves nothing", tbl)
		}
		if got[tbl] != want[tbl] {
			t.Errorf("%s: merged %+v, single node %+v", tbl, got[tbl], want[tbl])
		}
		for i := range shards {
			if parts[i][tbl].Rows != 0 {
				t.Errorf("shard %d published %d rows to %s: shards never publish", i, parts[i][tbl].Rows, tbl)
			}
		}
	}
	supp := queryCSVEnv(t, env, merged, "SELECT sum(suppressed_cells) FROM cold.suppressed_cells")
	if len(supp) == 0 || supp[0][0] == "0" || supp[0][0] == "" {
		t.Error("no suppressed cell in the merged cold store: k was never exercised")
	}
	// 2. Segment members (scattered back to their shards) and the per-customer
	// tables: the union of the shards is the single node's table.
	for _, tbl := range []string{"analytics.segment_members", "analytics.orders", "analytics.web_events", "analytics.app_events",
		"analytics.store_receipts", "analytics.contacts", "analytics.email_events", "analytics.survey_responses",
		"analytics.customer_features", "analytics.churn_scores", "analytics.clv_scores", "analytics.trigger_fires",
		"consent.intervals"} {
		var ps []warehouse.Checksum
		for i := range shards {
			ps = append(ps, parts[i][tbl])
		}
		if u := unionChecksum(t, ps...); u != want[tbl] {
			t.Errorf("%s: shards together %+v, single node %+v", tbl, u, want[tbl])
		}
	}
	// The vault: sealed values differ (fresh nonces), who is sealed where does not.
	vq := "SELECT count(*), CAST(coalesce(bit_xor(hash(subject_token, customer_key, updated_at)), 0) AS VARCHAR) FROM vault.pii"
	var vs []warehouse.Checksum
	for _, s := range shards {
		r := queryCSVEnv(t, env, s, vq)
		vs = append(vs, warehouse.Checksum{Rows: atoi(t, r[0][0]), Hash: r[0][1]})
	}
	r := queryCSVEnv(t, env, single, vq)
	if u := unionChecksum(t, vs...); u != (warehouse.Checksum{Rows: atoi(t, r[0][0]), Hash: r[0][1]}) {
		t.Errorf("vault.pii: shards together %+v, single node %v", u, r[0])
	}
	if want["analytics.segment_members"].Rows < 500 || want["analytics.churn_scores"].Rows == 0 {
		t.Errorf("too little to compare: %d segment members, %d churn scores", want["analytics.segment_members"].Rows,
			want["analytics.churn_scores"].Rows)
	}
	// Identity is stitched once, on the merged warehouse, and copied whole
	// to every shard.
	for _, tbl := range []string{"identity.customers", "identity.customer_map", "identity.identifiers", "ops.suppression"} {
		if got[tbl] != want[tbl] {
			t.Errorf("merged %s: %+v, single node %+v", tbl, got[tbl], want[tbl])
		}
		for i := range shards {
			if parts[i][tbl] != want[tbl] {
				t.Errorf("shard %d %s: %+v, single node %+v", i, tbl, parts[i][tbl], want[tbl])
			}
		}
	}
	// The input is divided: every row of a divided source went to some
	// shard, a shard took little more than its share (whole visits and app
	// devices), the merged warehouse loaded it all once.
	for _, src := range []string{"web_events", "app_events", "email_events", "pos_transactions", "callcenter_contacts", "surveys"} {
		loaded := atoi(t, queryCSVEnv(t, env, merged, fmt.Sprintf(
			"SELECT sum(CAST(detail->>'%s.loaded' AS BIGINT)) FROM ops.job_runs WHERE job = 'ingest' AND status = 'succeeded'", src))[0][0])
		var sum int64
		for i, s := range shards {
			n := atoi(t, queryCSVEnv(t, env, s, fmt.Sprintf(
				"SELECT coalesce(sum(CAST(detail->>'%s' AS BIGINT)), 0) FROM ops.job_runs WHERE job = 'ingest' AND status = 'succeeded'", src))[0][0])
			if loaded > 1000 && float64(n) > 0.45*float64(loaded) {
				t.Errorf("shard %d sliced %d of the %d rows of %s: not its share", i, n, loaded, src)
			}
			sum += n
		}
		if sum < loaded || float64(sum) > 1.4*float64(loaded) {
			t.Errorf("%s: the shards sliced %d rows together, the merged warehouse loaded %d", src, sum, loaded)
		}
	}
	// 3. Each shard holds only its customers; the merged warehouse none.
	for i, s := range shards {
		bad := queryCSVEnv(t, env, s, fmt.Sprintf(`SELECT count(*) FROM (
    SELECT customer_key FROM analytics.orders UNION ALL SELECT customer_key FROM analytics.segment_members
    UNION ALL SELECT customer_key FROM consent.intervals UNION ALL SELECT customer_key FROM vault.pii
) WHERE NOT %s`, warehouse.ShardPredicate("customer_key", "NULL", len(shards), i)))
		if bad[0][0] != "0" {
			t.Errorf("shard %d holds %s rows of other shards' customers", i, bad[0][0])
		}
	}
	for _, tbl := range []string{"analytics.orders", "analytics.segment_members", "analytics.customer_features", "consent.intervals",
		"ops.cold_ledger", "ops.cold_cohorts", "route.combo_keys", "route.event_groups"} {
		if got[tbl].Rows != 0 {
			t.Errorf("merged warehouse keeps %d rows of %s after the merge: it should keep no customer", got[tbl].Rows, tbl)
		}
	}
	// Churn trained on the sample (the scores above equal the single node's,
	// so the sample was the same).
	rows := queryCSVEnv(t, env, merged, "SELECT count(*), min(CAST(metrics->>'train_rows' AS INT)), max(CAST(metrics->>'train_rows' AS INT)) FROM ops.models WHERE kind = 'churn'")
	if rows[0][0] == "0" || rows[0][1] != fmt.Sprint(sample) || rows[0][2] != fmt.Sprint(sample) {
		t.Errorf("churn models %s trained on %s..%s rows, want the sample of %d", rows[0][0], rows[0][1], rows[0][2], sample)
	}
	// The models were trained once, on the merge, and shipped.
	for i := range shards {
		if parts[i]["ops.models"] != got["ops.models"] {
			t.Errorf("shard %d registry differs from the merged one", i)
		}
	}
}

// A shard warehouse stays the shard it was made as, and a merge checks its
// shards before touching them.
func TestShardRolesAreChecked(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	data := dataset(t, 300, 10, 3)
	last := lastDate(t, data)
	env := []string{"PARCOURS_PEPPER=" + randomKey(), "PARCOURS_MASTER_KEY=" + randomKey()}
	s0, s1, s2, merged := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	if r := cli(t, nil, "run", "nightly", "--date", last, "--merged", merged, "--warehouse", s0, "--shard", "0/2"); r.code != 2 ||
		!strings.Contains(r.stderr, "share one pepper") {
		t.Errorf("a shard without shared keys: exit %d, want 2 naming the shared keys\n%s", r.code, tail(r.stderr, 5))
	}
	if r := cli(t, env, "run", "nightly", "--date", last, "--warehouse", s0, "--shard", "0/2"); r.code != 2 ||
		!strings.Contains(r.stdout+r.stderr, "--merged") {
		t.Errorf("a shard without its merged warehouse: exit %d, want 2 naming --merged\n%s", r.code, tail(r.stderr, 5))
	}
	if r := cli(t, env, "run", "nightly", "--date", last, "--merged", merged, "--warehouse", s0, "--shard", "0/2"); r.code != 75 {
		t.Errorf("a shard before the route stage: exit %d, want 75\n%s", r.code, tail(r.stderr, 5))
	}
	mustCLIEnv(t, env, "merge", "--stage", "route", "--date", last, "--input", data, "--warehouse", merged, "--shards", s0+","+s1)
	mustCLIEnv(t, env, "run", "nightly", "--date", last, "--merged", merged, "--warehouse", s0, "--shard", "0/2")
	if r := cli(t, env, "run", "nightly", "--date", last, "--merged", merged, "--warehouse", s2, "--shard", "2/3"); r.code != 2 ||
		!strings.Contains(r.stdout+r.stderr, "not 3") {
		t.Errorf("a shard of 3 on a route into 2: exit %d, want 2\n%s", r.code, tail(r.stderr, 5))
	}
	if r := cli(t, env, "run", "nightly", "--date", last, "--merged", merged, "--warehouse", s0, "--shard", "1/2"); r.code != 2 ||
		!strings.Contains(r.stderr, "is shard 0/2, not shard 1/2") {
		t.Errorf("shard 0 run as shard 1: exit %d\n%s", r.code, tail(r.stderr, 5))
	}
	if r := cli(t, env, "run", "nightly", "--date", last, "--input", data, "--warehouse", s0); r.code == 0 {
		t.Error("a shard run as a single node was accepted")
	}
	if r := cli(t, env, "merge", "--stage", "models", "--date", last, "--warehouse", merged, "--shards", s0+","+s1); r.code != 2 {
		t.Errorf("merge with a missing shard: exit %d, want 2\n%s", r.code, tail(r.stderr, 5))
	}
	mustCLIEnv(t, env, "run", "nightly", "--date", last, "--merged", merged, "--warehouse", s1, "--shard", "1/2")
	if r := cli(t, env, "merge", "--stage", "models", "--date", last, "--warehouse", merged, "--shards", s1+","+s0); r.code != 2 ||
		!strings.Contains(r.stderr, "list the shards in order") {
		t.Errorf("merge with shards out of order: exit %d\n%s", r.code, tail(r.stderr, 5))
	}
	// Publishing before the shards scored: they are not at the gate yet.
	if r := cli(t, env, "merge", "--stage", "publish", "--date", last, "--warehouse", merged, "--shards", s0+","+s1); r.code != 75 {
		t.Errorf("publish before the shards reached merge_publish: exit %d, want 75\n%s", r.code, tail(r.stderr, 5))
	}
}

// crmEmail is the email a CRM export of the data set gives a customer id.
func crmEmail(t *testing.T, data, id string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(data, "*", "crm_customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if fields := strings.Split(line, ","); len(fields) > 1 && fields[0] == id && strings.Contains(fields[1], "@") {
				return fields[1]
			}
		}
	}
	t.Fatalf("no CRM email for %s in %s", id, data)
	return ""
}
