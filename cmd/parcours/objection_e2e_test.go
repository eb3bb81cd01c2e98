package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/purge"
)

// A customer who objects to profiling is, from the next run, in no score,
// segment or trigger and removed from a mirrored destination, while their
// facts stay; their privacy export shows the objection and the last
// prediction with its reasons; a contest pauses automated decisions until
// resolved; all of it is in ops.privacy_audit.
func TestObjectionNextRun(t *testing.T) {
	data := dataset(t, 3000, 365, 21) // enough history for a churn model (shared with TestNightlyTrainsAndScores)
	last := lastDate(t, data)
	prev := dayBefore(t, last, 1)
	wh := filepath.Join(t.TempDir(), "wh")
	pinKeys(t, wh, 21) // the clusters checked below, the same on every machine
	srv, err := fakeserver.New(fakeserver.Options{WebhookSecret: "hooksecret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := writeFile(t, fmt.Sprintf(`activation:
  frequency_cap: 20
  destinations:
  - name: hook
    type: webhook
    url: %s
    secret_env: HOOK_SECRET
    purpose: marketing_email
    mode: mirror
    segments: [rfm:champions, rfm:loyal, rfm:potential_loyalists, trigger:cart_abandonment]
`, srv.WebhookURL("hook")))
	env := []string{"HOOK_SECRET=hooksecret"}
	mustCLIEnv(t, env, "run", "nightly", "--config", cfg, "--date", prev, "--input", data, "--warehouse", wh)

	// Two customers the destination holds, scored and in a segment, with
	// the CRM id the generator gave them: two customers, one CRM id each
	// (a person with two CRM records would be picked twice).
	picks := queryRead(t, wh, []string{data}, fmt.Sprintf(`
SELECT DISTINCT t.value, m.customer_key, st.remote_id
FROM read_csv('%s', all_varchar = true) t
JOIN identity.customer_map m ON m.id_token = pseudonym('customer_id', t.value) AND NOT m.blocked
JOIN identity.customers k ON k.customer_key = m.customer_key AND k.n_customer_ids = 1
JOIN ops.sync_state st ON st.customer_key = m.customer_key AND st.destination = 'hook' AND st.segment LIKE 'rfm:%%'
JOIN analytics.churn_scores c ON c.customer_key = m.customer_key AND c.scored_on = DATE '%s'
WHERE t.type = 'customer_id'
QUALIFY row_number() OVER (PARTITION BY m.customer_key ORDER BY st.remote_id) = 1
ORDER BY 2 LIMIT 2`, filepath.Join(data, "truth", "identities.csv"), prev))
	if len(picks) < 2 {
		t.Fatalf("found %d scored customers held by the destination", len(picks))
	}
	objector, contester := picks[0], picks[1]
	r := mustCLIEnv(t, env, "privacy", "object", objector[0], "--to", "profiling", "--type", "customer_id",
		"--request-id", "DPO-1", "--warehouse", wh, "--config", cfg, "--json")
	if !strings.Contains(r.stdout, `"action": "objection"`) {
		t.Fatalf("object: %s", r.stdout)
	}
	mustCLIEnv(t, env, "privacy", "contest", contester[0], "--reason", "I buy every month, this risk score is wrong",
		"--type", "customer_id", "--request-id", "DPO-2", "--warehouse", wh, "--config", cfg)
	factsBefore := queryCSV(t, wh, fmt.Sprintf("SELECT count(*) FROM analytics.orders WHERE customer_key = '%s'", objector[1]))[0][0]

	r = cli(t, env, "run", "nightly", "--config", cfg, "--date", last, "--input", data, "--warehouse", wh)
	for i := 0; r.code == 75 && i < 3; i++ {
		r = cli(t, env, "activate", "apply", "--config", cfg, "--date", last, "--warehouse", wh)
	}
	if r.code != 0 {
		t.Fatalf("second night: exit %d\n%s", r.code, tail(r.stderr, 20))
	}
	for _, who := range [][]string{objector, contester} {
		key := who[1]
		got := queryCSV(t, wh, fmt.Sprintf(`SELECT
  (SELECT count(*) FROM analytics.churn_scores WHERE customer_key = '%[1]s' AND scored_on = DATE '%[2]s'),
  (SELECT count(*) FROM analytics.clv_scores WHERE customer_key = '%[1]s' AND scored_on = DATE '%[2]s'),
  (SELECT count(*) FROM analytics.segment_members WHERE customer_key = '%[1]s' AND computed_on = DATE '%[2]s'),
  (SELECT count(*) FROM analytics.trigger_fires WHERE customer_key = '%[1]s' AND fired_on = DATE '%[2]s'),
  (SELECT count(*) FROM ops.sync_state WHERE customer_key = '%[1]s'),
  (SELECT count(*) FROM analytics.churn_scores WHERE customer_key = '%[1]s' AND scored_on = DATE '%[3]s')`, key, last, prev))[0]
		if strings.Join(got[:5], ",") != "0,0,0,0,0" || got[5] != "1" {
			t.Errorf("%s: scores %s/%s, segments %s, fires %s, held by destinations %s on the next run (want none), earlier score %s (want kept)",
				key[:12], got[0], got[1], got[2], got[3], got[4], got[5])
		}
		for _, seg := range []string{"rfm:champions", "rfm:loyal", "rfm:potential_loyalists"} {
			if slices.Contains(srv.Audience(fakeserver.Webhook, "hook/"+seg), who[2]) {
				t.Errorf("%s still held by the mirrored destination in %s", key[:12], seg)
			}
		}
	}
	if got := queryCSV(t, wh, fmt.Sprintf("SELECT count(*) FROM analytics.orders WHERE customer_key = '%s'", objector[1]))[0][0]; atoi(t, got) < atoi(t, factsBefore) || got == "0" {
		t.Errorf("the objector's orders went from %s to %s: their facts must stay", factsBefore, got)
	}
	// Micro-segments keep their ids and labels from one night to the next
	// (matched to the previous night's centroids), on real generated data.
	micro := queryCSV(t, wh, fmt.Sprintf(`SELECT segment, label, customers, computed_on = DATE '%s' FROM cold.segment_profiles
WHERE family = 'micro' AND computed_on IN (DATE '%[1]s', DATE '%s') ORDER BY segment, computed_on`, last, prev))
	byNight := map[string]map[string]string{}
	for _, m := range micro {
		if byNight[m[3]] == nil {
			byNight[m[3]] = map[string]string{}
		}
		byNight[m[3]][m[0]] = m[1]
	}
	if len(byNight["false"]) == 0 || !maps.Equal(byNight["false"], byNight["true"]) {
		t.Errorf("micro-segments (id: label) moved between two consecutive nights: %v, then %v", byNight["false"], byNight["true"])
	}
	// Everyone else is still scored.
	if n := atoi(t, queryCSV(t, wh, fmt.Sprintf("SELECT count(*) FROM analytics.churn_scores WHERE scored_on = DATE '%s'", last))[0][0]); n < 100 {
		t.Errorf("only %d customers scored on the second night", n)
	}

	var rep purge.SubjectReport
	out := mustCLIEnv(t, env, "privacy", "export", contester[0], "--type", "customer_id", "--warehouse", wh).stdout
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Customers) != 1 {
		t.Fatalf("export: %v\n%s", err, out)
	}
	c := rep.Customers[0]
	if len(c.Objections) != 1 || c.Objections[0]["status"] != "contested" || c.Objections[0]["note"] != "I buy every month, this risk score is wrong" {
		t.Errorf("export objections %v", c.Objections)
	}
	if c.Prediction == nil || c.Prediction.Churn == nil || len(c.Prediction.Churn.Reasons) == 0 ||
		!strings.HasPrefix(c.Prediction.AutomatedDecisions, "not in use: you contest a prediction") {
		t.Errorf("export prediction %+v", c.Prediction)
	}

	// Resolved: automated decisions resume at the run after.
	mustCLIEnv(t, env, "privacy", "resolve", contester[0], "--type", "customer_id", "--note", "reviewed: the score stands",
		"--warehouse", wh, "--config", cfg)
	mustCLIEnv(t, env, "run", "consent", "score", "--force", "--config", cfg, "--date", last, "--input", data, "--warehouse", wh)
	got := queryCSV(t, wh, fmt.Sprintf(`SELECT
  (SELECT count(*) FROM analytics.churn_scores WHERE customer_key = '%s' AND scored_on = DATE '%s'),
  (SELECT count(*) FROM analytics.churn_scores WHERE customer_key = '%s' AND scored_on = DATE '%s')`, contester[1], last, objector[1], last))[0]
	if got[0] != "1" || got[1] != "0" {
		t.Errorf("after resolve: the contester has %s scores (want 1), the objector %s (want 0)", got[0], got[1])
	}
	audit := queryCSV(t, wh, `SELECT string_agg(action || ':' || request_id, ',' ORDER BY action) FROM ops.privacy_audit
WHERE target = 'consent.objections'`)[0][0]
	for _, want := range []string{"objection:DPO-1", "contest:DPO-2", "contest_resolved:"} {
		if !strings.Contains(audit, want) {
			t.Errorf("ops.privacy_audit lacks %s: %s", want, audit)
		}
	}
	if strings.Contains(audit, "I buy") {
		t.Error("the contest's reason reached the audit")
	}
}
