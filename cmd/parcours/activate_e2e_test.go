package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/filedrop"
)

// The nightly run on generated data pushes segments and triggers to all
// five destination types on a loopback server that fails 20% of requests
// (500, 503, 429 with Retry-After, dropped connections before and after
// applying). Afterwards each destination holds exactly what ops.sync_state
// says it holds; that is exactly the intended audience (the segment, with
// a consent for the destination's purpose valid at the end of the date,
// not suppressed) less the members the destination cannot match, each
// counted in ops.activation_exclusions; the file drop's manifests match
// their files; and applying the date again sends nothing.
func TestActivationEndToEnd(t *testing.T) {
	data := dataset(t, 2000, 60, 5)
	date := lastDate(t, data)
	wh := filepath.Join(t.TempDir(), "wh")
	outbox := filepath.Join(t.TempDir(), "outbox")
	srv, err := fakeserver.New(fakeserver.Options{Token: "tok", WebhookSecret: "hooksecret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetFaults(fakeserver.Faults{Rate: 0.2, Seed: 5, RetryAfter: "1",
		Kinds: []fakeserver.Fault{"500", "503", "429", "drop", "drop_after_apply"}})
	fast := "    max_attempts: 8\n    timeout_seconds: 5\n    min_backoff_seconds: 0.01\n    max_backoff_seconds: 0.1\n"
	cfg := writeFile(t, fmt.Sprintf(`activation:
  frequency_cap: 20
  destinations:
  - name: hook
    type: webhook
    url: %s
    secret_env: HOOK_SECRET
    purpose: marketing_email
    mode: mirror
    batch_size: 40
    segments: [rfm:champions, rfm:loyal, trigger:cart_abandonment]
%s  - name: drop
    type: filedrop
    outbox: %s
    format: csv
    purpose: personalization
    mode: upsert
    segments: [rfm:at_risk]
  - name: google
    type: google_data_manager
    url: %s
    secret_env: ADS_TOKEN
    customer_id: "1234"
    audience_id: "77"
    default_country: FR
    purpose: marketing_ads
    mode: mirror
    segments: [rfm:champions]
%s  - name: meta
    type: meta_ads
    url: %s
    secret_env: ADS_TOKEN
    audience_id: "555"
    default_country: FR
    purpose: marketing_ads
    mode: mirror
    segments: [rfm:loyal]
%s  - name: mail
    type: email_list
    url: %s
    secret_env: ADS_TOKEN
    audience_id: list1
    purpose: marketing_email
    mode: mirror
    batch_size: 100
    segments: [rfm:champions]
%s`, srv.WebhookURL("hook"), fast, outbox, srv.BaseURL(fakeserver.DataManager), fast, srv.BaseURL(fakeserver.Meta), fast,
		srv.BaseURL(fakeserver.Mailchimp), fast))
	env := []string{"HOOK_SECRET=hooksecret", "ADS_TOKEN=tok"}
	r := cli(t, env, "run", "nightly", "--config", cfg, "--date", date, "--input", data, "--warehouse", wh)
	for i := 0; r.code == 75 && i < 3; i++ { // a scheduler retries exit 75
		r = cli(t, env, "activate", "apply", "--config", cfg, "--date", date, "--warehouse", wh)
	}
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, tail(r.stderr, 30), tail(r.stdout, 30))
	}

	audiences := []struct {
		dest, segment string
		platform      fakeserver.Platform
		id            string
	}{
		{"hook", "rfm:champions", fakeserver.Webhook, "hook/rfm:champions"},
		{"hook", "rfm:loyal", fakeserver.Webhook, "hook/rfm:loyal"},
		{"google", "rfm:champions", fakeserver.DataManager, "customers/1234/userLists/77"},
		{"meta", "rfm:loyal", fakeserver.Meta, "555"},
		// A segment on an email list is a tag (leaving it is not an unsubscribe).
		{"mail", "rfm:champions", fakeserver.Mailchimp, fakeserver.TaggedAudience("list1", "rfm:champions")},
	}
	loc, _ := time.LoadLocation("Europe/Paris")
	d, _ := time.Parse(time.DateOnly, date)
	endOfDay := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc).UTC().Format("2006-01-02 15:04:05+00")
	purpose := map[string]string{"hook": "marketing_email", "google": "marketing_ads", "meta": "marketing_ads", "mail": "marketing_email"}
	for _, a := range audiences {
		held := srv.Audience(a.platform, a.id)
		state := column(queryCSV(t, wh, fmt.Sprintf(`SELECT remote_id FROM ops.sync_state
WHERE destination = '%s' AND segment = '%s' ORDER BY 1`, a.dest, a.segment)))
		slices.Sort(held)
		if !slices.Equal(held, state) {
			t.Errorf("%s %s: destination holds %d, ops.sync_state says %d", a.dest, a.segment, len(held), len(state))
		}
		if len(held) == 0 {
			t.Errorf("%s %s: nobody sent", a.dest, a.segment)
		}
		// The intended audience, computed here from the source tables.
		family, name, _ := strings.Cut(a.segment, ":")
		got := queryCSV(t, wh, fmt.Sprintf(`WITH intended AS (
    SELECT m.customer_key FROM analytics.segment_members m
    WHERE m.family = '%[1]s' AND m.segment = '%[2]s'
      AND m.computed_on = (SELECT max(computed_on) FROM analytics.segment_members WHERE family = '%[1]s')
      AND EXISTS (SELECT 1 FROM consent.intervals i WHERE i.customer_key = m.customer_key AND i.purpose = '%[3]s'
                  AND i.valid_from <= TIMESTAMPTZ '%[4]s' AND (i.valid_to IS NULL OR i.valid_to > TIMESTAMPTZ '%[4]s'))
      AND NOT EXISTS (SELECT 1 FROM identity.customer_map c JOIN ops.suppression s USING (id_token) WHERE c.customer_key = m.customer_key)
), sent AS (
    SELECT customer_key FROM ops.sync_state WHERE destination = '%[5]s' AND segment = '%[1]s:%[2]s'
)
SELECT (SELECT count(*) FROM intended),
       (SELECT count(*) FROM sent),
       (SELECT count(*) FROM sent WHERE customer_key NOT IN (SELECT customer_key FROM intended)),
       (SELECT coalesce(sum(customers), 0) FROM ops.activation_exclusions
        WHERE plan_date = DATE '%[6]s' AND destination = '%[5]s' AND segment = '%[1]s:%[2]s'
          AND reason IN ('no_identifier', 'shared_identifier', 'consent_ad_user_data', 'consent_ad_personalization')),
       (SELECT count(*) FROM ops.activation_members am JOIN ops.activation_batches b USING (idempotency_key)
        WHERE b.destination = '%[5]s' AND b.segment = '%[1]s:%[2]s' AND am.outcome = 'rejected')`,
			family, name, purpose[a.dest], endOfDay, a.dest, date))[0]
		intended, sent, stray, unmatched, rejected := atoi(t, got[0]), atoi(t, got[1]), atoi(t, got[2]), atoi(t, got[3]), atoi(t, got[4])
		if stray != 0 {
			t.Errorf("%s %s: %d members sent who are not in the intended audience (consent, suppression, segment)", a.dest, a.segment, stray)
		}
		if sent+unmatched+rejected != intended {
			t.Errorf("%s %s: intended %d = sent %d + unmatchable %d + rejected %d does not hold", a.dest, a.segment, intended, sent, unmatched, rejected)
		}
		t.Logf("%s %s: intended %d, held %d, unmatchable %d, rejected %d", a.dest, a.segment, intended, len(held), unmatched, rejected)
	}
	checkOutbox(t, outbox)

	before := srv.Stats().Requests
	mustCLIEnv(t, env, "activate", "apply", "--config", cfg, "--date", date, "--warehouse", wh)
	if after := srv.Stats().Requests; after != before {
		t.Errorf("applying the date again sent %d requests, want none", after-before)
	}
	var st struct {
		SyncRuns []map[string]any `json:"sync_runs"`
	}
	out := mustCLIEnv(t, env, "status", "--config", cfg, "--warehouse", wh, "--json").stdout
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.SyncRuns) < 5 {
		t.Errorf("status shows %d sync log lines, want the 5 destinations' at least", len(st.SyncRuns))
	}
}

func mustCLIEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := cli(t, env, args...)
	if r.code != 0 {
		t.Fatalf("parcours %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, tail(r.stderr, 30), tail(r.stdout, 30))
	}
	return r
}

func column(rows [][]string) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out
}

// checkOutbox: every dropped file has a manifest whose row count and
// SHA-256 match it, and no temporary file is left visible.
func checkOutbox(t *testing.T, outbox string) {
	t.Helper()
	entries, err := os.ReadDir(outbox)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			t.Errorf("outbox holds a temporary file %s", name)
			continue
		}
		if strings.HasSuffix(name, ".manifest.json") {
			continue
		}
		files++
		body, err := os.ReadFile(filepath.Join(outbox, name))
		if err != nil {
			t.Fatal(err)
		}
		mb, err := os.ReadFile(filepath.Join(outbox, filedrop.ManifestName(name)))
		if err != nil {
			t.Errorf("%s has no manifest: %v", name, err)
			continue
		}
		var m filedrop.Manifest
		if err := json.Unmarshal(mb, &m); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		rows := strings.Count(string(body), "\n") - 1 // CSV with a header line
		if m.SHA256 != hex.EncodeToString(sum[:]) || m.Rows != rows {
			t.Errorf("%s: manifest says %d rows sha256 %s, file has %d rows sha256 %x", name, m.Rows, m.SHA256, rows, sum)
		}
	}
	if files == 0 {
		t.Error("the file drop wrote no file")
	}
}
