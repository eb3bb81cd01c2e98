package activate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	ivault "github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/jobs/activate/emaillist"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Review tests: each one states a requirement of jobs/activate/README.md's Activation
// section and fails while the code breaks it.

const mailList = "list1"

// sealEmails puts email addresses in the vault for the given customers
// (as the vault job would), so connectors that match on email can carry
// them.
func (f *fixture) sealEmails(emails map[string]string) {
	f.t.Helper()
	f.wh.Secrets.MasterKey = bytes.Repeat([]byte{7}, 32)
	if _, err := ivault.ReadHeader(f.wh.KeystorePath()); err != nil {
		// The fixture opened its warehouse without a master key.
		if err := ivault.CreateKeystore(f.wh.KeystorePath(), f.wh.Secrets.MasterKey, ivault.NewWarehouseID()); err != nil {
			f.t.Fatal(err)
		}
	}
	ks, err := ivault.OpenKeystore(f.wh.KeystorePath(), f.wh.Secrets.MasterKey)
	if err != nil {
		f.t.Fatal(err)
	}
	for key, email := range emails {
		h := sha256.Sum256([]byte("subject " + key))
		subj, err := ivault.ParseSubject(hex.EncodeToString(h[:]))
		if err != nil {
			f.t.Fatal(err)
		}
		dk, _, err := ks.DataKey(subj, true)
		if err != nil {
			f.t.Fatal(err)
		}
		ct, err := ivault.Seal(dk, subj, "email", email)
		if err != nil {
			f.t.Fatal(err)
		}
		f.exec(`INSERT INTO vault.pii (subject_token, customer_key, updated_at, email, run_id)
VALUES (?, ?, TIMESTAMPTZ '2026-01-01 00:00:00+00', ?, 'seed')`, subj.String(), key, ct)
	}
	if err := ks.Save(); err != nil {
		f.t.Fatal(err)
	}
}

// mailDestination is an email list on the fixture's fake server.
func (f *fixture) mailDestination(mode string, segments ...string) config.Destination {
	f.t.Setenv("MAIL_TOKEN", "tok")
	return config.Destination{Name: "mail", Type: "email_list", Options: map[string]any{"url": f.srv.BaseURL(fakeserver.Mailchimp), "secret_env": "MAIL_TOKEN", "audience_id": mailList},
		Purpose: "marketing_email", Mode: mode, Segments: segments,
		BatchSize: 100, TimeoutSeconds: 0.3, MaxAttempts: 4, MinBackoffSeconds: 0.002, MaxBackoffSeconds: 0.02}
}

func (f *fixture) mustApply(d time.Time) {
	f.t.Helper()
	if _, err := f.apply(d, ApplyOptions{}); err != nil {
		f.t.Fatalf("apply %s: %v", d.Format(time.DateOnly), err)
	}
}

func emailOf(k string) string { return k + "@example.com" }

// TestReviewDeadBatchNotResentToSuppressedMember: a member suppressed after
// their batch went dead must not be sent when the dead batch is re-sent
// ("a dead batch whose members no longer all pass the gates is abandoned";
// suppression is one of the gates).
func TestReviewDeadBatchNotResentToSuppressedMember(t *testing.T) {
	f := newFixture(t)
	f.srv.SetFaults(fakeserver.Faults{Rate: 1, Kinds: []fakeserver.Fault{"503"}})
	f.plan(day)
	if _, err := f.apply(day, ApplyOptions{}); !orchestration.IsTemporary(err) {
		t.Fatalf("apply against a down destination: %v, want a temporary failure", err)
	}
	// c000 is suppressed after the failed attempt.
	f.exec(`INSERT INTO identity.customer_map VALUES ('tok0', 'email', 'c000', false)`)
	f.exec(`INSERT INTO ops.suppression (id_token, id_type) VALUES ('tok0', 'email')`)
	f.srv.SetFaults(fakeserver.Faults{})
	next := day.AddDate(0, 0, 1)
	rep := f.plan(next)
	if got := excluded(rep, "rfm:champions"); got["suppressed"] != 2 {
		t.Errorf("plan counts %d suppressed, want 2 (c000, c005)", got["suppressed"])
	}
	f.mustApply(next)
	if n := f.srv.Applications(fakeserver.Webhook, "hook/rfm:champions", "c000"); n != 0 {
		t.Errorf("c000 is suppressed, yet the re-sent dead batch delivered them (%d applications)", n)
	}
}

// TestReviewFrequencyCapHoldsOnReplan: re-running plan and apply for a
// date already applied must not send a member past the cap. With cap 1,
// c010..c019 (champions and a cart fire on the same destination) get the
// champions add and are capped for the trigger; re-planning the same date
// forgets today's accepted adds and sends them the trigger as well.
func TestReviewFrequencyCapHoldsOnReplan(t *testing.T) {
	f := newFixture(t)
	f.cfg.Activation.FrequencyCap = 1
	f.plan(day)
	f.mustApply(day)
	if got := f.audience("trigger:cart_abandonment"); len(got) != 0 {
		t.Fatalf("first apply: trigger audience %v, want empty (capped)", got)
	}
	rep := f.plan(day)
	f.mustApply(day)
	if got := f.audience("trigger:cart_abandonment"); len(got) != 0 {
		t.Errorf("after re-planning the same date, %d members capped at 1 message got a second one: %v (plan: %+v)",
			len(got), got, excluded(rep, "trigger:cart_abandonment"))
	}
}

// TestReviewReplanDeletesOrphanPayload: payload files hold personal data
// and are deleted once their batch is settled. Re-planning a date drops
// the batches it planned before; their files must go with them.
func TestReviewReplanDeletesOrphanPayload(t *testing.T) {
	f := newFixture(t)
	rep := f.plan(day)
	var trig string
	for _, s := range rep.Segments {
		if s.Segment == "trigger:cart_abandonment" && len(s.Batches) == 1 {
			trig = filepath.Join(Dir(&f.cfg), s.Batches[0])
		}
	}
	if trig == "" {
		t.Fatalf("no trigger batch planned: %+v", rep.Segments)
	}
	// The trigger job re-ran for the date and the fires are gone.
	f.exec(`DELETE FROM analytics.trigger_fires`)
	rep = f.plan(day)
	var rows int
	if err := f.wh.DB.QueryRow(`SELECT count(*) FROM ops.activation_batches WHERE segment = 'trigger:cart_abandonment'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(trig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("payload %s of a dropped batch (%d batch rows left) is still on disk (%v)", trig, rows, err)
	}
}

// TestReviewErasureReachesUnconfiguredSegment: the destination still holds
// what it was sent for a segment later taken out of its config; an erased
// subject must be removed from it all the same ("removes the subject from
// every destination, in every mode").
func TestReviewErasureReachesUnconfiguredSegment(t *testing.T) {
	f := newFixture(t)
	f.plan(day)
	f.mustApply(day)
	if got := f.audience("trigger:cart_abandonment"); !slices.Contains(got, "c010") {
		t.Fatalf("c010 not sent the trigger on D: %v", got)
	}
	f.cfg.Activation.Destinations[0].Segments = []string{"rfm:champions"}
	// c010 erased, as the purge does it.
	f.exec(`UPDATE ops.sync_state SET customer_key = NULL, status = 'erase_pending' WHERE customer_key = 'c010'`)
	f.exec(`UPDATE ops.activation_members SET member_key = remote_id, customer_key = NULL WHERE customer_key = 'c010'`)
	f.exec(`DELETE FROM analytics.segment_members WHERE customer_key = 'c010'`)
	f.exec(`DELETE FROM consent.intervals WHERE customer_key = 'c010'`)
	next := day.AddDate(0, 0, 1)
	f.plan(next)
	f.mustApply(next)
	if got := f.audience("rfm:champions"); slices.Contains(got, "c010") {
		t.Errorf("c010 still in champions")
	}
	if got := f.audience("trigger:cart_abandonment"); slices.Contains(got, "c010") {
		t.Errorf("erased c010 is still held by destination hook (segment trigger:cart_abandonment, no longer configured)")
	}
	var pending int
	if err := f.wh.DB.QueryRow(`SELECT count(*) FROM ops.sync_state WHERE status = 'erase_pending'`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d erase_pending rows left in ops.sync_state (%v)", pending, err)
	}
}

// TestReviewEmailListTwoSegmentsKeepsMember: one email list fed by two
// segments would lose a member who leaves one segment but stays in the
// other (both share the remote audience). The config refuses it: one
// destination per segment for single-audience types.
func TestReviewEmailListTwoSegmentsKeepsMember(t *testing.T) {
	f := newFixture(t)
	f.cfg.Activation.Destinations = []config.Destination{f.mailDestination("mirror", "rfm:champions", "rfm:loyal")}
	err := (&PlanJob{}).CheckConfig(&f.cfg)
	if err == nil || !strings.Contains(err.Error(), "one destination per segment") {
		t.Errorf("an email list fed by two segments: %v, want refused", err)
	}
}

// TestReviewEmailListRemovalByReason: the email list connector acts on why
// a member leaves. Leaving a segment is not an unsubscribe (the tag goes,
// the subscription stays); a withdrawn consent is an opt-out (unsubscribed,
// so the platform keeps the unsubscription); only an erased member is
// deleted permanently. Nobody live is deleted.
func TestReviewEmailListRemovalByReason(t *testing.T) {
	f := newFixture(t)
	emails := map[string]string{}
	for _, k := range customers(0, 10) {
		emails[k] = emailOf(k)
	}
	f.sealEmails(emails)
	f.cfg.Activation.Destinations = []config.Destination{f.mailDestination("mirror", "rfm:champions")}
	f.plan(day)
	f.mustApply(day)
	f.exec(`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-11', 'rfm', 'champions', printf('c%03d', i) FROM range(300) t(i) WHERE i <> 1`)
	f.exec(`UPDATE consent.intervals SET valid_to = TIMESTAMPTZ '2026-03-11 08:00:00+00', ended_by = 'withdrawn' WHERE customer_key = 'c002'`)
	next := day.AddDate(0, 0, 1)
	rep := f.plan(next)
	for _, s := range rep.Segments {
		for _, b := range s.Batches {
			body, err := os.ReadFile(filepath.Join(Dir(&f.cfg), b))
			if err != nil {
				t.Fatal(err)
			}
			var p Payload
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Requests {
				if strings.HasSuffix(r.Path, "delete-permanent") {
					t.Errorf("%s: %s deletes %v permanently, though they are not erased", b, r.Key, r.Members)
				}
			}
		}
	}
	f.mustApply(next)
	// c001 left the segment: still subscribed, no longer tagged. c002
	// withdrew consent: an opt-out, so unsubscribed (and still on the list).
	tagged := f.srv.Audience(fakeserver.Mailchimp, fakeserver.TaggedAudience(mailList, "rfm:champions"))
	for _, tc := range []struct {
		key        string
		wantActive bool
	}{{"c001", true}, {"c002", false}} {
		h := emaillist.SubscriberHash(emailOf(tc.key))
		if e, ok := f.srv.Member(fakeserver.Mailchimp, mailList, h); !ok || e.Active != tc.wantActive {
			t.Errorf("%s: on the list %v, subscribed %v; want on the list, subscribed %v", tc.key, ok, e.Active, tc.wantActive)
		}
		if tc.key == "c001" && slices.Contains(tagged, h) {
			t.Errorf("%s left the segment but still has its tag", tc.key)
		}
	}
}

// TestReviewSharedEmailSentOnce: two customers sharing an email are sent
// once (dedupeRemote); with nothing changed the next day, nothing is due.
func TestReviewSharedEmailSentOnce(t *testing.T) {
	f := newFixture(t)
	f.sealEmails(map[string]string{"c000": "same@example.com", "c001": "same@example.com", "c002": emailOf("c002")})
	f.cfg.Activation.Destinations = []config.Destination{f.mailDestination("mirror", "rfm:champions")}
	f.cfg.Activation.FrequencyCap = 10
	f.plan(day)
	f.mustApply(day)
	for i, d := range []time.Time{day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)} {
		rep := f.plan(d)
		for _, s := range rep.Segments {
			if s.Add+s.Update+s.Remove != 0 {
				t.Errorf("day %d, nothing changed: plan has %d adds, %d updates, %d removals (the shared email flips between customers)",
					i+1, s.Add, s.Update, s.Remove)
			}
		}
		f.mustApply(d)
	}
	var adds int
	if err := f.wh.DB.QueryRow(`SELECT count(*) FROM ops.activation_members WHERE kind = 'add' AND outcome = 'accepted' AND customer_key IN ('c000', 'c001')`).Scan(&adds); err != nil || adds != 1 {
		t.Errorf("%d accepted adds for the shared email over three days, want 1 (%v)", adds, err)
	}
}

// TestReviewReplanAfterCrashMidBatch: apply died after a batch's request
// reached the destination but before the batch was recorded; the operator
// re-runs the date (plan, then apply). The re-planned batch must not reuse
// the idempotency key of the request already sent with a different body,
// or the destination replays the old answer instead of applying the new
// one.
func TestReviewReplanAfterCrashMidBatch(t *testing.T) {
	f := newFixture(t)
	hook := &f.cfg.Activation.Destinations[0]
	hook.Segments = []string{"rfm:champions"}
	hook.BatchSize = 1000
	rep := f.plan(day)
	// Send the planned request as apply would, then "crash" before settle.
	body, err := os.ReadFile(filepath.Join(Dir(&f.cfg), rep.Segments[0].Batches[0]))
	if err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	c, err := Connect(*hook, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	// As apply does, the batch is marked sending before its first request.
	if _, err := f.wh.Exec(context.Background(), sqlfs.Ref{File: "activation.apply.sql", Section: "sending"}, sql.Named("batch_key", p.Requests[0].Key)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), p.Requests[0]); err != nil {
		t.Fatal(err)
	}
	sentKey, sentBody := p.Requests[0].Key, p.Requests[0].Body
	// Overnight c000 withdrew: the re-run plans a different batch.
	f.exec(`UPDATE consent.intervals SET valid_to = TIMESTAMPTZ '2026-03-10 12:00:00+00', ended_by = 'withdrawn' WHERE customer_key = 'c000'`)
	rep = f.plan(day)
	body, err = os.ReadFile(filepath.Join(Dir(&f.cfg), rep.Segments[0].Batches[0]))
	if err != nil {
		t.Fatal(err)
	}
	p = Payload{}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Requests[0].Key == sentKey && !bytes.Equal(p.Requests[0].Body, sentBody) {
		t.Errorf("re-planned request reuses idempotency key %s, already sent with another body", sentKey)
	}
	rapp, err := f.apply(day, ApplyOptions{})
	if err != nil {
		t.Errorf("apply after the re-plan: %v (%+v)", err, rapp.Destinations)
	}
	// The crashed request delivered c000, who has no consent at the end of
	// D: the re-run must take them out again (as a dead batch's failed
	// attempt is compensated), today or on the next run.
	next := day.AddDate(0, 0, 1)
	f.plan(next)
	f.mustApply(next)
	if got := f.audience("rfm:champions"); slices.Contains(got, "c000") {
		t.Errorf("c000 (no consent at the end of D) is held by the destination after the re-run and the next day, and ops.sync_state does not know it")
	}
	var bad int
	if err := f.wh.DB.QueryRow(`SELECT count(*) FROM ops.activation_members WHERE outcome = 'rejected'`).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("%d members rejected after the re-plan (%v)", bad, err)
	}
}

// TestReviewErasedKeyLeavesActivationTables: the purge "cuts the erased
// customer's key" from ops.sync_state and ops.activation_members. For a
// webhook the remote id is that very key; once the removal is accepted,
// nothing should still hold it.
func TestReviewErasedKeyLeavesActivationTables(t *testing.T) {
	f := newFixture(t)
	f.plan(day)
	f.mustApply(day)
	f.exec(`UPDATE ops.sync_state SET customer_key = NULL, status = 'erase_pending' WHERE customer_key = 'c004'`)
	f.exec(`UPDATE ops.activation_members SET member_key = remote_id, customer_key = NULL WHERE customer_key = 'c004'`)
	f.exec(`DELETE FROM analytics.segment_members WHERE customer_key = 'c004'`)
	f.exec(`DELETE FROM consent.intervals WHERE customer_key = 'c004'`)
	next := day.AddDate(0, 0, 1)
	f.plan(next)
	f.mustApply(next)
	if got := f.audience("rfm:champions"); slices.Contains(got, "c004") {
		t.Fatal("c004 not removed")
	}
	var n int
	if err := f.wh.DB.QueryRow(`SELECT (SELECT count(*) FROM ops.sync_state WHERE remote_id = 'c004' OR customer_key = 'c004')
     + (SELECT count(*) FROM ops.activation_members WHERE member_key = 'c004' OR remote_id = 'c004' OR customer_key = 'c004')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d activation rows still hold erased customer key c004 after its removal was accepted", n)
	}
}

// TestReviewRemovalSettlesAfterErasure: a removal planned for a live
// customer who is erased before apply sends it. The destination takes it;
// the sync state row must then be gone ("deleted once the removal is
// accepted") and the batch must count the member as accepted.
func TestReviewRemovalSettlesAfterErasure(t *testing.T) {
	f := newFixture(t)
	emails := map[string]string{}
	for _, k := range customers(0, 10) {
		emails[k] = emailOf(k)
	}
	f.sealEmails(emails)
	f.cfg.Activation.Destinations = []config.Destination{f.mailDestination("mirror", "rfm:champions")}
	f.plan(day)
	f.mustApply(day)
	// D+1: c001 leaves champions; the plan removes them.
	f.exec(`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-11', 'rfm', 'champions', printf('c%03d', i) FROM range(300) t(i) WHERE i <> 1`)
	next := day.AddDate(0, 0, 1)
	f.plan(next)
	// The purge erases c001 between plan and apply.
	f.exec(`UPDATE ops.sync_state SET customer_key = NULL, status = 'erase_pending' WHERE customer_key = 'c001'`)
	f.exec(`UPDATE ops.activation_members SET member_key = remote_id, customer_key = NULL WHERE customer_key = 'c001'`)
	f.mustApply(next) // the batch holding c001's fields is not sent
	next = next.AddDate(0, 0, 1)
	f.exec(`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key)
SELECT DATE '2026-03-12', 'rfm', 'champions', printf('c%03d', i) FROM range(300) t(i) WHERE i <> 1`)
	f.plan(next)
	f.mustApply(next)
	if _, ok := f.srv.Member(fakeserver.Mailchimp, mailList, emaillist.SubscriberHash(emailOf("c001"))); ok {
		t.Fatal("c001 still on the list")
	}
	var pending, accepted int
	if err := f.wh.DB.QueryRow(`SELECT (SELECT count(*) FROM ops.sync_state WHERE status = 'erase_pending'),
       (SELECT coalesce(sum(accepted), 0) FROM ops.activation_batches WHERE op = 'remove')`).Scan(&pending, &accepted); err != nil {
		t.Fatal(err)
	}
	if pending != 0 || accepted != 1 {
		t.Errorf("after the accepted removal: %d erase_pending rows left (want 0), removal batch counts %d accepted (want 1)", pending, accepted)
	}
}

// TestReviewFrequencyCapCountsInFlight: a member whose add is in a dead
// batch is re-sent by the next apply; that add is a message too. With cap
// 1, the destination after the failing one must stay capped for them.
func TestReviewFrequencyCapCountsInFlight(t *testing.T) {
	f := newFixture(t)
	down, err := fakeserver.New(fakeserver.Options{WebhookSecret: hookSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	down.SetFaults(fakeserver.Faults{Rate: 1, Kinds: []fakeserver.Fault{"503"}})
	hook := f.cfg.Activation.Destinations[0]
	hook.Segments = []string{"rfm:champions"}
	f.cfg.Activation.Destinations = []config.Destination{{
		Name: "down", Type: "webhook", Options: map[string]any{"url": down.WebhookURL("down"), "secret_env": "HOOK_SECRET"},
		Purpose: "marketing_email", Mode: "mirror", Segments: []string{"rfm:champions"},
		BatchSize: 50, TimeoutSeconds: 0.3, MaxAttempts: 2, MinBackoffSeconds: 0.002, MaxBackoffSeconds: 0.02,
	}, hook}
	f.cfg.Activation.FrequencyCap = 1
	f.plan(day)
	if _, err := f.apply(day, ApplyOptions{}); !orchestration.IsTemporary(err) {
		t.Fatalf("apply: %v, want a temporary failure", err)
	}
	if got := f.audience("rfm:champions"); len(got) != 0 {
		t.Fatalf("hook got %d members on D, want 0 (capped behind down)", len(got))
	}
	down.SetFaults(fakeserver.Faults{})
	next := day.AddDate(0, 0, 1)
	f.plan(next)
	f.mustApply(next)
	sentDown := down.Audience(fakeserver.Webhook, "down/rfm:champions")
	both := 0
	for _, k := range f.audience("rfm:champions") {
		if slices.Contains(sentDown, k) {
			both++
		}
	}
	if both != 0 {
		t.Errorf("%d members capped at 1 message per window were added to both destinations within two days", both)
	}
}
