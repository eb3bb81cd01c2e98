// Package conntest runs every connector through the same scenarios against
// the fake server: each fault kind the server can inject, per-record and
// whole-batch rejections, a batch that fails every attempt and is re-sent
// by the next run, and removals (including an erased member known only by
// its remote id). After each scenario the destination must hold exactly the
// intended audience: nobody missing, nobody twice, nobody removed who was
// not sent for removal, and every change applied once.
package conntest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
)

// Test credentials the fake server checks.
const (
	Token  = "test-token"
	Secret = "test-secret"
)

// Target is a connector under test.
type Target struct {
	Platform fakeserver.Platform
	// New builds the connector pointed at srv.
	New func(srv *fakeserver.Server, dc delivery.Config) (delivery.Connector, error)
	// Audience is the fake server's name for the audience the batches
	// land in.
	Audience string
	// ServerID is the id the fake server holds a member under, from the
	// connector's remote id.
	ServerID func(remoteID string) string
	// RefuseValues are the values the server must refuse to reject m, for
	// platforms that only see hashes; nil uses the "reject" substring in
	// the member's email.
	RefuseValues func(c delivery.Connector, m delivery.Member) []string
	// Consent, when set, says which members the connector may upload
	// (ad consent granted): the standard members then all have it, three
	// members lacking it are added, and Encode must skip exactly those,
	// with a reason, so the destination never holds them.
	Consent func(m delivery.Member) bool
	// UnnamedRejectIsPermanent says a refusal naming no record is a
	// request-level error on this platform: the whole_unnamed scenarios
	// then check such a request fails Permanent without being bisected.
	UnnamedRejectIsPermanent bool
}

// Scenario is one fault setting.
type Scenario struct {
	Name   string
	Faults fakeserver.Faults
	// Retries says the scenario must cause client retries.
	Retries bool
	// Replays says the server must have answered from its idempotency store.
	Replays bool
	// Reject says the bad members are refused (otherwise their emails are
	// clean and everyone gets in).
	Reject bool
}

// Scenarios is the standard fault matrix.
func Scenarios() []Scenario {
	all := func(f fakeserver.Fault, n int) []fakeserver.Fault {
		out := make([]fakeserver.Fault, n)
		for i := range out {
			out[i] = f
		}
		return out
	}
	return []Scenario{
		{Name: "clean"},
		{Name: "429_retry_after", Faults: fakeserver.Faults{Script: all(fakeserver.TooManyRequests, 2), RetryAfter: "0"}, Retries: true},
		{Name: "500", Faults: fakeserver.Faults{Script: all(fakeserver.InternalError, 2)}, Retries: true},
		{Name: "503", Faults: fakeserver.Faults{Script: all(fakeserver.Unavailable, 2), RetryAfter: "0"}, Retries: true},
		{Name: "timeout", Faults: fakeserver.Faults{Script: all(fakeserver.Timeout, 1), Delay: 3 * time.Second}, Retries: true},
		{Name: "drop", Faults: fakeserver.Faults{Script: all(fakeserver.Drop, 2)}, Retries: true},
		{Name: "drop_after_apply", Faults: fakeserver.Faults{Script: []fakeserver.Fault{fakeserver.NoFault, fakeserver.DropAfterApply, fakeserver.DropAfterApply}}, Retries: true, Replays: true},
		{Name: "fail_every_attempt_then_next_run", Faults: fakeserver.Faults{Script: all(fakeserver.InternalError, MaxAttempts)}, Retries: true},
		{Name: "random_30pct", Faults: fakeserver.Faults{Rate: 0.3, Seed: 7, Kinds: []fakeserver.Fault{fakeserver.InternalError, fakeserver.Unavailable, fakeserver.Drop, fakeserver.DropAfterApply, fakeserver.TooManyRequests}}, Retries: true},
		{Name: "reject_per_record", Faults: fakeserver.Faults{RejectMode: fakeserver.PerRecord}, Reject: true},
		{Name: "reject_whole_named", Faults: fakeserver.Faults{RejectMode: fakeserver.WholeNamed}, Reject: true},
		{Name: "reject_whole_unnamed", Faults: fakeserver.Faults{RejectMode: fakeserver.WholeUnnamed}, Reject: true},
		{Name: "reject_whole_unnamed_random_20pct", Faults: fakeserver.Faults{RejectMode: fakeserver.WholeUnnamed, Rate: 0.2, Seed: 11}, Reject: true, Retries: true},
	}
}

// MaxAttempts is the per-request attempt cap the scenarios run with.
const MaxAttempts = 4

// DeliveryConfig is fast: short backoffs and a timeout well under the
// server's stall.
func DeliveryConfig() delivery.Config {
	return delivery.Config{Timeout: 300 * time.Millisecond, MaxAttempts: MaxAttempts,
		MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Seed: 1}
}

// Batch names used by the scenarios.
const (
	Destination = "dest1"
	Segment     = "rfm:champions"
	Date        = "2024-03-01"
)

// badIndex marks the members the server is made to refuse.
func badIndex(i int) bool { return i == 7 || i == 18 || i == 29 }

// removed marks the members a later batch removes (none of them bad).
func removed(i int) bool { return i < 6 || i == erased }

// erased is removed by remote id alone, as after a crypto-shredding.
const erased = 10

// Members is a deterministic population of n members with every field,
// French, British and US numbers, and all four Google consent states.
func Members(n int) []delivery.Member {
	out := make([]delivery.Member, n)
	for i := range out {
		m := delivery.Member{
			Key:         fmt.Sprintf("ck%04d", i),
			Email:       fmt.Sprintf("User.%04d@Example.com", i),
			FirstName:   fmt.Sprintf("Prénom%d", i),
			LastName:    "Dupont-Durand",
			CountryCode: "FR",
			PostalCode:  fmt.Sprintf("75%03d", i%20),
			AdUserData:  i%2 == 0,
			// Personalisation differs from user data on every other pair.
			AdPersonalization: i%4 < 2,
			Attributes:        map[string]string{"tier": []string{"gold", "silver"}[i%2], "score": fmt.Sprint(i * 7 % 100)},
		}
		switch i % 3 {
		case 0:
			m.Phone = fmt.Sprintf("06 12 34 %02d %02d", i/100, i%100)
		case 1:
			m.Phone, m.CountryCode = fmt.Sprintf("+44 20 7946 %04d", i), "GB"
		default:
			m.Phone = ""
		}
		out[i] = m
	}
	return out
}

// withBad turns the bad members' emails into ones the server refuses.
func withBad(ms []delivery.Member) []delivery.Member {
	out := slices.Clone(ms)
	for i := range out {
		if badIndex(i) {
			out[i].Email = fmt.Sprintf("reject.%04d@example.com", i)
		}
	}
	return out
}

// Run runs every scenario against the target.
func Run(t *testing.T, tg Target) {
	for _, sc := range Scenarios() {
		if tg.UnnamedRejectIsPermanent && sc.Faults.RejectMode == fakeserver.WholeUnnamed {
			t.Run(sc.Name, func(t *testing.T) { runUnnamedPermanent(t, tg, sc) })
			continue
		}
		t.Run(sc.Name, func(t *testing.T) { RunScenario(t, tg, sc) })
	}
}

// RunScenario runs one scenario: upserts of 40 members in batches of 10,
// then a removal batch, each sent over as many runs as it takes (a run
// re-sends what failed temporarily), and checks the server's final state.
func RunScenario(t *testing.T, tg Target, sc Scenario) {
	t.Helper()
	srv, err := fakeserver.New(fakeserver.Options{Token: Token, WebhookSecret: Secret})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := tg.New(srv, DeliveryConfig())
	if err != nil {
		t.Fatal(err)
	}
	members := Members(40)
	if sc.Reject {
		members = withBad(members)
	}
	var excluded []string
	if tg.Consent != nil {
		members, excluded = withConsent(tg, members)
	}
	faults := sc.Faults
	if sc.Reject {
		if tg.RefuseValues == nil {
			faults.RejectSubstring = "reject"
		} else {
			for i, m := range members {
				if badIndex(i) {
					faults.RejectValues = append(faults.RejectValues, tg.RefuseValues(c, m)...)
				}
			}
		}
	}
	srv.SetFaults(faults)

	ctx := context.Background()
	var upserts []delivery.Batch
	for i, ch := range delivery.Chunk(members, 10) {
		upserts = append(upserts, delivery.Batch{Destination: Destination, Segment: Segment, Date: Date, Number: i + 1, Op: delivery.OpUpsert, Members: ch})
	}
	up := sendAll(ctx, t, c, upserts, tg.Consent != nil)
	if got := keysOf(up.Skipped); !slices.Equal(got, excluded) {
		t.Errorf("skipped at encoding %v, want those without consent %v", up.Skipped, excluded)
	}
	for _, r := range up.Skipped {
		if r.Reason == "" {
			t.Errorf("exclusion of %s has no reason", r.Key)
		}
	}

	var rm []delivery.Member
	for i, m := range members {
		if !removed(i) {
			continue
		}
		if i == erased {
			rid, err := c.RemoteID(m)
			if err != nil {
				t.Fatal(err)
			}
			m = delivery.Member{Key: m.Key, RemoteID: rid}
		}
		rm = append(rm, m)
	}
	down := sendAll(ctx, t, c, []delivery.Batch{{Destination: Destination, Segment: Segment, Date: Date, Number: 1, Op: delivery.OpRemove, Members: rm}}, false)

	// Who was accepted and refused.
	var wantRejected []string
	for i, m := range members {
		if sc.Reject && badIndex(i) {
			wantRejected = append(wantRejected, m.Key)
		}
	}
	if got := keysOf(up.Rejected); !slices.Equal(got, wantRejected) {
		t.Errorf("rejected %v, want %v (reasons %v)", got, wantRejected, up.Rejected)
	}
	for _, r := range up.Rejected {
		if r.Reason == "" {
			t.Errorf("rejection of %s has no reason", r.Key)
		}
	}
	if n := len(up.Accepted) + len(up.Rejected) + len(up.Skipped); n != len(members) {
		t.Errorf("upserts: %d accepted + %d rejected, want %d members accounted for", len(up.Accepted), len(up.Rejected), len(members))
	}
	if len(down.Rejected) != 0 || len(down.Accepted) != len(rm) {
		t.Errorf("removals: accepted %d rejected %v, want all %d accepted", len(down.Accepted), down.Rejected, len(rm))
	}

	// The destination holds exactly the intended audience.
	var want []string
	byKey := map[string]delivery.Member{}
	for _, m := range members {
		byKey[m.Key] = m
	}
	accepted := map[string]bool{}
	for _, k := range up.Accepted {
		accepted[k] = true
	}
	for i, m := range members {
		if accepted[m.Key] && !removed(i) {
			want = append(want, serverID(t, tg, c, m))
		}
	}
	sort.Strings(want)
	got := srv.Audience(tg.Platform, tg.Audience)
	if !slices.Equal(got, want) {
		t.Errorf("destination holds %d members, want %d\n got %v\nwant %v", len(got), len(want), got, want)
	}
	// Every change applied once: adds once; removed members added, then removed.
	for i, m := range members {
		if !accepted[m.Key] {
			continue
		}
		wantN := 1
		if removed(i) {
			wantN = 2
		}
		if n := srv.Applications(tg.Platform, tg.Audience, serverID(t, tg, c, m)); n != wantN {
			t.Errorf("member %s: %d changes applied, want %d", m.Key, n, wantN)
		}
	}
	// Nobody without consent was ever applied.
	for _, m := range members {
		if tg.Consent != nil && !tg.Consent(m) {
			if n := srv.Applications(tg.Platform, tg.Audience, serverID(t, tg, c, m)); n != 0 {
				t.Errorf("member %s without consent: %d changes applied", m.Key, n)
			}
		}
	}
	st := srv.Stats()
	if sc.Retries && up.Retries+down.Retries+up.Runs+down.Runs-2 == 0 {
		t.Errorf("no retry happened (stats %+v)", st)
	}
	if !sc.Retries && len(st.Faults) == 0 && up.Retries+down.Retries != 0 {
		t.Errorf("%d retries without any fault", up.Retries+down.Retries)
	}
	if sc.Replays && st.Replayed == 0 {
		t.Errorf("no idempotent replay (stats %+v)", st)
	}
	if st.Unauthorized != 0 {
		t.Errorf("%d requests refused as unauthorised", st.Unauthorized)
	}
}

func serverID(t *testing.T, tg Target, c delivery.Connector, m delivery.Member) string {
	t.Helper()
	rid, err := c.RemoteID(m)
	if err != nil {
		t.Fatalf("remote id of %s: %v", m.Key, err)
	}
	if tg.ServerID != nil {
		return tg.ServerID(rid)
	}
	return rid
}

// Sent sums what a set of batches achieved.
type Sent struct {
	Accepted []string
	Rejected []delivery.Rejection
	// Skipped are the members Encode left out.
	Skipped []delivery.Rejection
	Retries int
	// Runs is how many runs it took (1 when nothing was dead-lettered).
	Runs int
}

// sendAll encodes the batches and delivers every request; requests that
// fail temporarily are re-sent by the next "run", up to three runs.
func sendAll(ctx context.Context, t *testing.T, c delivery.Connector, batches []delivery.Batch, skipOK bool) Sent {
	t.Helper()
	var s Sent
	var pending []delivery.Request
	for _, b := range batches {
		reqs, skipped, err := c.Encode(b)
		if err != nil {
			t.Fatalf("encode %s: %v", delivery.IdempotencyKey(b), err)
		}
		if len(skipped) != 0 && !skipOK {
			t.Fatalf("encode %s skipped %v", delivery.IdempotencyKey(b), skipped)
		}
		s.Skipped = append(s.Skipped, skipped...)
		pending = append(pending, reqs...)
	}
	// A request re-sent by a later run is accounted for by its last
	// outcome only: the destination replays what it already applied.
	last := map[string]delivery.Outcome{}
	var order []string
	for run := 1; len(pending) > 0; run++ {
		if run > 3 {
			t.Fatalf("%d requests still failing after 3 runs", len(pending))
		}
		s.Runs = run
		var next []delivery.Request
		for _, r := range pending {
			out, err := delivery.Deliver(ctx, c, r)
			if _, seen := last[r.Key]; !seen {
				order = append(order, r.Key)
			}
			last[r.Key] = out
			s.Retries += out.Retries
			switch delivery.KindOf(err) {
			case "":
			case delivery.Temporary:
				next = append(next, r)
			default:
				t.Fatalf("deliver %s: %v", r.Key, err)
			}
		}
		pending = next
	}
	for _, k := range order {
		s.Accepted = append(s.Accepted, last[k].Accepted...)
		s.Rejected = append(s.Rejected, last[k].Rejected...)
	}
	return s
}

func keysOf(rs []delivery.Rejection) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key
	}
	sort.Strings(out)
	return out
}

// withConsent gives every member both ad consent signals and adds three
// members lacking one or both; it returns the keys of those, sorted.
func withConsent(tg Target, ms []delivery.Member) ([]delivery.Member, []string) {
	out := slices.Clone(ms)
	for i := range out {
		out[i].AdUserData, out[i].AdPersonalization = true, true
	}
	extra := Members(len(ms) + 3)[len(ms):]
	for i, c := range [][2]bool{{true, false}, {false, true}, {false, false}} {
		extra[i].AdUserData, extra[i].AdPersonalization = c[0], c[1]
	}
	out = append(out, extra...)
	var excluded []string
	for _, m := range out {
		if !tg.Consent(m) {
			excluded = append(excluded, m.Key)
		}
	}
	sort.Strings(excluded)
	return out, excluded
}

// runUnnamedPermanent: each request holding a refused member is refused
// with an answer naming no record. Where that is a request-level error,
// the request must fail Permanent with no subset sent (no bisection of a
// batch for a fault no record caused), the other requests must go
// through, and the destination must hold exactly their members.
func runUnnamedPermanent(t *testing.T, tg Target, sc Scenario) {
	srv, err := fakeserver.New(fakeserver.Options{Token: Token, WebhookSecret: Secret})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := tg.New(srv, DeliveryConfig())
	if err != nil {
		t.Fatal(err)
	}
	members := withBad(Members(40))
	if tg.Consent != nil {
		members, _ = withConsent(tg, members)
	}
	faults := sc.Faults
	bad := map[string]bool{}
	for i, m := range members {
		if !badIndex(i) {
			continue
		}
		bad[m.Key] = true
		if tg.RefuseValues == nil {
			faults.RejectSubstring = "reject"
		} else {
			faults.RejectValues = append(faults.RejectValues, tg.RefuseValues(c, m)...)
		}
	}
	srv.SetFaults(faults)
	byKey := map[string]delivery.Member{}
	for _, m := range members {
		byKey[m.Key] = m
	}
	ctx := context.Background()
	var want []string
	for i, ch := range delivery.Chunk(members, 10) {
		reqs, _, err := c.Encode(delivery.Batch{Destination: Destination, Segment: Segment, Date: Date, Number: i + 1, Op: delivery.OpUpsert, Members: ch})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			var out delivery.Outcome
			for run := 0; run < 3; run++ {
				out, err = delivery.Deliver(ctx, c, r)
				if delivery.KindOf(err) != delivery.Temporary {
					break
				}
			}
			if slices.ContainsFunc(r.Members, func(k string) bool { return bad[k] }) {
				if delivery.KindOf(err) != delivery.Permanent || out.Splits != 0 || len(out.Accepted) != 0 {
					t.Errorf("%s: kind %q, %d subsets sent, %d accepted; want permanent, none, none (%v)", r.Key, delivery.KindOf(err), out.Splits, len(out.Accepted), err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("deliver %s: %v", r.Key, err)
			}
			for _, k := range out.Accepted {
				want = append(want, serverID(t, tg, c, byKey[k]))
			}
		}
	}
	sort.Strings(want)
	if got := srv.Audience(tg.Platform, tg.Audience); !slices.Equal(got, want) {
		t.Errorf("destination holds %d members, want %d\n got %v\nwant %v", len(got), len(want), got, want)
	}
}
