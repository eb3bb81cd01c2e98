package activate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/orchestration"
)

// The planted population of the tests, on day D: customers c000..c299 are
// champions; c010..c019 abandoned a cart on D.
//   - marketing_email consent: c000..c269 (open); c270..c279 withdrew
//     before D; c280..c299 never gave it.
//   - c005 has an identifier on the suppression list.
var day = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

const hookSecret = "s3cret"

type fixture struct {
	t   testing.TB
	wh  *warehouse.Warehouse
	cfg config.Config
	srv *fakeserver.Server
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	cfg := config.Default()
	wh := whtest.Open(t, &cfg)
	srv, err := fakeserver.New(fakeserver.Options{WebhookSecret: hookSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	t.Setenv("HOOK_SECRET", hookSecret)
	cfg.Activation.Destinations = []config.Destination{{
		Name: "hook", Type: "webhook", Options: map[string]any{"url": srv.WebhookURL("hook"), "secret_env": "HOOK_SECRET"},
		Purpose: "marketing_email", Mode: "mirror", Segments: []string{"rfm:champions", "trigger:cart_abandonment"},
		BatchSize: 25, TimeoutSeconds: 0.3, MaxAttempts: 4, MinBackoffSeconds: 0.002, MaxBackoffSeconds: 0.02,
	}}
	f := &fixture{t: t, wh: wh, cfg: cfg, srv: srv}
	f.exec(`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-10', 'rfm', 'champions', printf('c%03d', i) FROM range(300) t(i)`)
	f.exec(`INSERT INTO analytics.trigger_fires (fired_on, "trigger", customer_key, channel, purpose, reason, content)
SELECT DATE '2026-03-10', 'cart_abandonment', printf('c%03d', i), 'email', 'remind', '{}', 'cart_reminder' FROM range(10, 20) t(i)`)
	f.exec(`INSERT INTO consent.intervals (customer_key, purpose, valid_from, valid_to, ended_by, consent_id)
SELECT printf('c%03d', i), 'marketing_email', TIMESTAMPTZ '2025-01-01 00:00:00+00',
       CASE WHEN i >= 270 THEN TIMESTAMPTZ '2026-03-01 00:00:00+00' END,
       CASE WHEN i >= 270 THEN 'withdrawn' ELSE 'open' END, 'g' || i
FROM range(280) t(i)`)
	f.exec(`INSERT INTO identity.customer_map VALUES ('tok5', 'email', 'c005', false)`)
	f.exec(`INSERT INTO ops.suppression (id_token, id_type) VALUES ('tok5', 'email')`)
	return f
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.wh.DB.Exec(q, args...); err != nil {
		f.t.Fatalf("%v\n%s", err, q)
	}
}

func (f *fixture) plan(d time.Time) PlanReport {
	f.t.Helper()
	conn, err := f.wh.Conn(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close()
	rep, err := Plan(context.Background(), f.wh, conn, &f.cfg, d, "run-plan", zerolog.Nop())
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

func (f *fixture) apply(d time.Time, opt ApplyOptions) (ApplyReport, error) {
	return Apply(context.Background(), f.wh, &f.cfg, d, "run-apply", zerolog.Nop(), opt)
}

// customers lists c%03d for each i in [from, to) except skip.
func customers(from, to int, skip ...int) []string {
	var out []string
	for i := from; i < to; i++ {
		if !slices.Contains(skip, i) {
			out = append(out, fmt.Sprintf("c%03d", i))
		}
	}
	return out
}

func (f *fixture) audience(seg string) []string {
	got := f.srv.Audience(fakeserver.Webhook, "hook/"+SegmentKey(seg))
	if got == nil {
		got = []string{}
	}
	return got
}

// TestApplyUnderFaults: whatever the destination does, once apply has run
// (re-run while it reports temporary failures, as a scheduler retries exit
// 75), the destination holds exactly the consented, unsuppressed members,
// each applied once, and nobody without consent was ever sent.
func TestApplyUnderFaults(t *testing.T) {
	intended := customers(0, 270, 5)
	for _, tc := range []struct {
		name     string
		faults   fakeserver.Faults
		rejected []string // members the destination refuses for good
	}{
		{"none", fakeserver.Faults{}, nil},
		{"429_retry_after", fakeserver.Faults{Script: []fakeserver.Fault{"429", "429", "429"}, RetryAfter: "1"}, nil},
		{"500s", fakeserver.Faults{Script: []fakeserver.Fault{"500", "500", "500", "500", "500", "500", "500", "500"}}, nil},
		{"timeouts", fakeserver.Faults{Script: []fakeserver.Fault{"timeout", "timeout"}, Delay: 2 * time.Second}, nil},
		{"dropped_connections", fakeserver.Faults{Script: []fakeserver.Fault{"drop", "drop_after_apply", "drop_after_apply"}}, nil},
		{"random_40pct", fakeserver.Faults{Rate: 0.4, Seed: 3, Kinds: []fakeserver.Fault{"500", "503", "drop", "drop_after_apply", "timeout"}, Delay: time.Second}, nil},
		{"per_record_rejections", fakeserver.Faults{RejectValues: []string{"c042", "c117"}, RejectMode: fakeserver.PerRecord}, []string{"c042", "c117"}},
		{"whole_batch_rejections", fakeserver.Faults{RejectValues: []string{"c042", "c117"}, RejectMode: fakeserver.WholeUnnamed}, []string{"c042", "c117"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetFaults(tc.faults)
			rep := f.plan(day)
			if got := excluded(rep, "rfm:champions"); got["no_consent"] != 30 || got["suppressed"] != 1 {
				t.Errorf("exclusions %v, want no_consent 30 and suppressed 1", got)
			}
			var err error
			for run := 0; run < 6; run++ {
				if _, err = f.apply(day, ApplyOptions{}); err == nil || !orchestration.IsTemporary(err) {
					break
				}
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			want := slices.DeleteFunc(slices.Clone(intended), func(k string) bool { return slices.Contains(tc.rejected, k) })
			if got := f.audience("rfm:champions"); !slices.Equal(got, want) {
				t.Errorf("destination holds %d members, want %d: missing %v, extra %v", len(got), len(want), minus(want, got), minus(got, want))
			}
			for _, k := range want {
				if n := f.srv.Applications(fakeserver.Webhook, "hook/rfm:champions", k); n != 1 {
					t.Errorf("%s applied %d times, want once", k, n)
				}
			}
			for _, k := range append(customers(270, 300), "c005") {
				if n := f.srv.Applications(fakeserver.Webhook, "hook/rfm:champions", k); n != 0 {
					t.Errorf("%s has no consent or is suppressed, yet was sent %d times", k, n)
				}
			}
			wantTrig := customers(10, 20)
			if got := f.audience("trigger:cart_abandonment"); !slices.Equal(got, wantTrig) {
				t.Errorf("trigger audience %v, want %v", got, wantTrig)
			}
			for _, k := range tc.rejected {
				var reason string
				row := f.wh.DB.QueryRow(`SELECT detail FROM ops.activation_members WHERE member_key = ? AND outcome = 'rejected'`, k)
				if err := row.Scan(&reason); err != nil || reason == "" {
					t.Errorf("%s: rejection reason not recorded (%v)", k, err)
				}
			}
			// Re-applying the same date sends nothing.
			before := f.srv.Stats().Requests
			if _, err := f.apply(day, ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			if after := f.srv.Stats().Requests; after != before {
				t.Errorf("re-apply sent %d requests, want none", after-before)
			}
		})
	}
}

// TestCrashBetweenBatchesResumes: an apply stopped after two batches
// resumes without re-sending them.
func TestCrashBetweenBatchesResumes(t *testing.T) {
	f := newFixture(t)
	f.plan(day)
	crash := errors.New("power cut")
	n := 0
	_, err := f.apply(day, ApplyOptions{AfterBatch: func(string) error {
		if n++; n == 2 {
			return crash
		}
		return nil
	}})
	if !errors.Is(err, crash) {
		t.Fatalf("apply: %v, want the crash", err)
	}
	sentBefore := f.srv.Stats().Requests
	if sentBefore == 0 {
		t.Fatal("nothing sent before the crash")
	}
	if _, err := f.apply(day, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	st := f.srv.Stats()
	if st.Replayed != 0 {
		t.Errorf("%d requests replayed after the resume: accepted batches were sent again", st.Replayed)
	}
	if got, want := f.audience("rfm:champions"), customers(0, 270, 5); !slices.Equal(got, want) {
		t.Errorf("after resume %d members, want %d", len(got), len(want))
	}
}

// TestNextDay: consent withdrawn, erasure, an objection, leaving the
// segment (mirror vs upsert), and the frequency cap, across two plan dates.
func TestNextDay(t *testing.T) {
	f := newFixture(t)
	f.cfg.Activation.Destinations = append(f.cfg.Activation.Destinations, config.Destination{
		Name: "hook2", Type: "webhook", Options: map[string]any{"url": f.srv.WebhookURL("hook2"), "secret_env": "HOOK_SECRET"},
		Purpose: "marketing_email", Mode: "upsert", Segments: []string{"rfm:champions"},
		BatchSize: 100, TimeoutSeconds: 0.3, MaxAttempts: 2, MinBackoffSeconds: 0.002, MaxBackoffSeconds: 0.02,
	})
	f.cfg.Activation.FrequencyCap = 2
	f.plan(day)
	if _, err := f.apply(day, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// c010..c019 got 2 messages on D (champions + cart trigger on hook):
	// hook2 (priority 2) was capped for them.
	if got, want := f.srv.Audience(fakeserver.Webhook, "hook2/rfm:champions"), customers(0, 270, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19); !slices.Equal(got, want) {
		t.Errorf("hook2 holds %d, want %d (capped %v)", len(got), len(want), minus(want, got))
	}
	next := day.AddDate(0, 0, 1)
	f.exec(`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-11', 'rfm', 'champions', printf('c%03d', i) FROM range(300) t(i) WHERE i NOT IN (1, 2)`)
	f.exec(`UPDATE consent.intervals SET valid_to = TIMESTAMPTZ '2026-03-11 08:00:00+00', ended_by = 'withdrawn' WHERE customer_key = 'c003'`)
	// c004 erased, as the purge does it.
	f.exec(`UPDATE ops.sync_state SET customer_key = NULL, status = 'erase_pending' WHERE customer_key = 'c004'`)
	f.exec(`UPDATE ops.activation_members SET member_key = remote_id, customer_key = NULL WHERE customer_key = 'c004'`)
	f.exec(`DELETE FROM analytics.segment_members WHERE customer_key = 'c004'`)
	f.exec(`DELETE FROM consent.intervals WHERE customer_key = 'c004'`)
	// c006 objects to direct marketing (GDPR article 21), consent or not.
	f.exec(`INSERT INTO consent.objecting VALUES ('c006', 'marketing')`)
	f.plan(next)
	if _, err := f.apply(next, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// Mirror: left the segment (c001, c002), withdrew (c003), erased (c004),
	// objected (c006) are all gone. c010..c019 had their 2 messages within
	// 7 days: still capped for hook2.
	if got, want := f.audience("rfm:champions"), customers(0, 270, 1, 2, 3, 4, 5, 6); !slices.Equal(got, want) {
		t.Errorf("mirror: missing %v, extra %v", minus(want, got), minus(got, want))
	}
	// Upsert: members who left the segment stay; privacy removals happen.
	if got, want := f.srv.Audience(fakeserver.Webhook, "hook2/rfm:champions"), customers(0, 270, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19); !slices.Equal(got, want) {
		t.Errorf("upsert: missing %v, extra %v", minus(want, got), minus(got, want))
	}
	var left int
	if err := f.wh.DB.QueryRow(`SELECT count(*) FROM ops.sync_state WHERE customer_key IS NULL OR status <> 'active'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d erased or pending rows left in ops.sync_state (%v)", left, err)
	}
	var runs int
	if err := f.wh.DB.QueryRow(`SELECT count(*) FROM ops.sync_runs WHERE phase = 'apply' AND plan_date = DATE '2026-03-11'`).Scan(&runs); err != nil || runs != 2 {
		t.Errorf("sync log: %d apply rows for the day, want 2 (%v)", runs, err)
	}
}

// TestPlanWritesExactPayloads: apply sends the planned files; a changed
// file is refused.
func TestPlanWritesExactPayloads(t *testing.T) {
	f := newFixture(t)
	rep := f.plan(day)
	var files []string
	for _, s := range rep.Segments {
		files = append(files, s.Batches...)
	}
	if len(files) != 2 {
		t.Fatalf("%d payload files, want 2 (champions, cart fires): %v", len(files), files)
	}
	// 269 champions at 25 per request: 11 requests in the first file.
	var p Payload
	if b, err := os.ReadFile(filepath.Join(Dir(&f.cfg), files[0])); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Requests) != 11 || p.Op != "upsert" || len(p.Requests[10].Members) != 19 {
		t.Errorf("payload %s: %d requests (want 11), op %s", files[0], len(p.Requests), p.Op)
	}
	if f.srv.Stats().Requests != 0 {
		t.Fatal("plan made a network call")
	}
	path := filepath.Join(Dir(&f.cfg), files[0])
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, ' '), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = f.apply(day, ApplyOptions{})
	if err == nil || orchestration.IsTemporary(err) {
		t.Fatalf("apply of a changed payload: %v, want a permanent failure", err)
	}
	// The other batch went; the changed one was abandoned, not sent, and
	// the next plan sends its members in a new batch.
	if got := f.audience("trigger:cart_abandonment"); len(got) != 10 {
		t.Errorf("the intact batch was held back: %d members sent, want 10", len(got))
	}
	if got := f.audience("rfm:champions"); len(got) != 0 {
		t.Fatalf("the changed payload was sent: %d members", len(got))
	}
	next := day.AddDate(0, 0, 1)
	f.exec(`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-11', 'rfm', 'champions', printf('c%03d', i) FROM range(300) t(i)`)
	f.plan(next)
	if _, err := f.apply(next, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.audience("rfm:champions"), customers(0, 270, 5); !slices.Equal(got, want) {
		t.Errorf("after the re-plan: %d members, want %d", len(got), len(want))
	}
}

func excluded(rep PlanReport, seg string) map[string]int64 {
	for _, s := range rep.Segments {
		if s.Segment == seg {
			return s.Excluded
		}
	}
	return nil
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestFailingDestinationDoesNotHoldOthers: a destination that fails every
// request is dead-lettered and reported as a temporary failure, after the
// healthy one received its whole audience; once it recovers, the next
// apply re-sends its dead batches and it ends exact.
func TestFailingDestinationDoesNotHoldOthers(t *testing.T) {
	f := newFixture(t)
	down, err := fakeserver.New(fakeserver.Options{WebhookSecret: hookSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	down.SetFaults(fakeserver.Faults{Rate: 1, Kinds: []fakeserver.Fault{"503"}})
	f.cfg.Activation.Destinations = append(f.cfg.Activation.Destinations, config.Destination{
		Name: "down", Type: "webhook", Options: map[string]any{"url": down.WebhookURL("down"), "secret_env": "HOOK_SECRET"},
		Purpose: "marketing_email", Mode: "mirror", Segments: []string{"rfm:champions"},
		BatchSize: 50, TimeoutSeconds: 0.3, MaxAttempts: 2, MinBackoffSeconds: 0.002, MaxBackoffSeconds: 0.02,
	})
	f.cfg.Activation.FrequencyCap = 10
	f.plan(day)
	rep, err := f.apply(day, ApplyOptions{})
	if !orchestration.IsTemporary(err) {
		t.Fatalf("apply: %v, want a temporary failure (exit 75)", err)
	}
	if got, want := f.audience("rfm:champions"), customers(0, 270, 5); !slices.Equal(got, want) {
		t.Errorf("the healthy destination got %d members, want %d", len(got), len(want))
	}
	var dead int
	if err := f.wh.DB.QueryRow(`SELECT count(*) FROM ops.dead_letters WHERE destination = 'down' AND kind = 'temporary'`).Scan(&dead); err != nil || dead != 1 {
		t.Errorf("%d dead letters for the failing destination, want 1 (%v)", dead, err)
	}
	for _, d := range rep.Destinations {
		if d.Destination == "down" && (d.DeadLettered != 269 || d.Failure != "temporary") {
			t.Errorf("down: dead-lettered %d members (%s), want 269 temporary", d.DeadLettered, d.Failure)
		}
	}
	down.SetFaults(fakeserver.Faults{})
	next := day.AddDate(0, 0, 1)
	f.plan(next) // the dead batch is in flight: not planned again
	if _, err := f.apply(next, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := down.Audience(fakeserver.Webhook, "down/rfm:champions"), customers(0, 270, 5); !slices.Equal(got, want) {
		t.Errorf("after recovery the destination holds %d, want %d", len(got), len(want))
	}
	if st := down.Stats(); st.Applied != 6 {
		t.Errorf("recovered destination applied %d requests, want 6 (269 members in 50s, once each)", st.Applied)
	}
}

// TestSizeAlert: a segment that halves raises the alert; triggers never do.
func TestSizeAlert(t *testing.T) {
	f := newFixture(t)
	f.plan(day)
	f.exec(`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-11', 'rfm', 'champions', printf('c%03d', i) FROM range(100) t(i)`)
	rep := f.plan(day.AddDate(0, 0, 1))
	if rep.SizeAlerts != 1 {
		t.Fatalf("%d size alerts, want 1: %+v", rep.SizeAlerts, rep.Segments)
	}
	for _, s := range rep.Segments {
		if s.Segment == "rfm:champions" && (!s.Alert || s.Audience != 99 || *s.Previous != 269) {
			t.Errorf("champions: alert %v, audience %d (want 99), previous %d (want 269)", s.Alert, s.Audience, *s.Previous)
		}
	}
	var n int
	if err := f.wh.DB.QueryRow(`SELECT size_alerts FROM ops.sync_runs WHERE plan_date = DATE '2026-03-11' AND phase = 'plan'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("sync log size_alerts %d, want 1 (%v)", n, err)
	}
}

// With every destination removed from the configuration, the next plan
// abandons the batches left for them; the one after has nothing to do
// and changes nothing.
func TestPlanWithoutDestinations(t *testing.T) {
	f := newFixture(t)
	f.plan(day)
	statuses := func() []string {
		t.Helper()
		return whtest.Strings(t, f.wh.DB, "SELECT status || ' ' || count(*) FROM ops.activation_batches GROUP BY status ORDER BY 1")
	}
	if got := statuses(); len(got) != 1 || !strings.HasPrefix(got[0], "planned ") {
		t.Fatalf("after a plan with destinations: %q, want planned batches only", got)
	}
	f.cfg.Activation.Destinations = nil
	f.plan(day.AddDate(0, 0, 1))
	after := statuses()
	if len(after) != 1 || !strings.HasPrefix(after[0], "abandoned ") {
		t.Fatalf("after a plan without destinations: %q, want every batch abandoned", after)
	}
	f.plan(day.AddDate(0, 0, 2))
	if got := statuses(); !slices.Equal(got, after) {
		t.Errorf("a plan with nothing to do changed the batches: %q, was %q", got, after)
	}
}
