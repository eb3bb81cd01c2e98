package emaillist

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/internal/conntest"
)

func newConn(t *testing.T, base string, dc delivery.Config) *Connector {
	t.Helper()
	c, err := New(Config{Name: "mc", BaseURL: base, ListID: "list1", Token: conntest.Token, BatchSize: 7, Delivery: dc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScenarios(t *testing.T) {
	conntest.Run(t, conntest.Target{
		Platform: fakeserver.Mailchimp,
		// Segment membership is the segment's tag, not list membership.
		Audience: fakeserver.TaggedAudience("list1", Tag(conntest.Segment)),
		New: func(srv *fakeserver.Server, dc delivery.Config) (delivery.Connector, error) {
			return newConn(t, srv.BaseURL(fakeserver.Mailchimp), dc), nil
		},
	})
}

func TestSubscriberHash(t *testing.T) {
	// printf %s a@example.com | md5sum
	const want = "b418773a2c51fb9777a1648346fa7394"
	for _, email := range []string{"a@example.com", "A@Example.COM"} {
		if got := SubscriberHash(email); got != want {
			t.Errorf("SubscriberHash(%q) = %s, want %s", email, got, want)
		}
	}
	c := newConn(t, "http://127.0.0.1:1", delivery.Config{})
	if got, err := c.RemoteID(delivery.Member{Key: "k", Email: " A@example.com "}); err != nil || got != want {
		t.Errorf("RemoteID = %s, %v", got, err)
	}
	if got, err := c.RemoteID(delivery.Member{Key: "k", RemoteID: want}); err != nil || got != want {
		t.Errorf("RemoteID of an erased member = %s, %v", got, err)
	}
}

func TestEncodeShape(t *testing.T) {
	c := newConn(t, "http://127.0.0.1:1", delivery.Config{})
	b := delivery.Batch{Destination: "mc", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert,
		Members: []delivery.Member{
			{Key: "k1", Email: " A@Example.com ", FirstName: "Zoë", Phone: "+33612345678", Attributes: map[string]string{"tier": "gold"}},
			{Key: "k2", Email: "not-an-email"},
		}}
	reqs, skipped, err := c.Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Key != "k2" {
		t.Fatalf("skipped %v, want k2", skipped)
	}
	want := `{"members":[{"email_address":"a@example.com","email_type":"html","status_if_new":"subscribed","merge_fields":{"FNAME":"Zoë","PHONE":"+33612345678","TIER":"gold"},"tags":["s"]}],"update_existing":true}`
	if len(reqs) != 1 || string(reqs[0].Body) != want || reqs[0].Path != "3.0/lists/list1" || !reflect.DeepEqual(reqs[0].Members, []string{"k1"}) {
		t.Fatalf("requests %d, body\n%s\nwant\n%s", len(reqs), reqs[0].Body, want)
	}

	// A removal takes the segment's tag off, by subscriber hash, whether
	// the member still has an email or is known only by the hash.
	hash, err := c.RemoteID(b.Members[0])
	if err != nil {
		t.Fatal(err)
	}
	rm := delivery.Batch{Destination: "mc", Segment: "s", Date: "2024-03-01", Number: 2, Op: delivery.OpRemove,
		Members: []delivery.Member{{Key: "k3", Email: "c@example.com"}, {Key: "k1", RemoteID: hash}}}
	reqs, _, _ = c.Encode(rm)
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, h := range []string{SubscriberHash("c@example.com"), hash} {
		if want := `{"tags":[{"name":"s","status":"inactive"}]}`; string(reqs[i].Body) != want || reqs[i].Path != "3.0/lists/list1/members/"+h+"/tags" {
			t.Errorf("removal %d: %s %s, want %s", i, reqs[i].Path, reqs[i].Body, want)
		}
	}
	if reqs[1].Key != "mc/s/2024-03-01/remove/2/p2" {
		t.Errorf("key %s", reqs[1].Key)
	}
}

func TestBatchLimit(t *testing.T) {
	c, err := New(Config{Name: "mc", BaseURL: "http://127.0.0.1:1", ListID: "l", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ms := make([]delivery.Member, 1201)
	for i := range ms {
		ms[i] = delivery.Member{Key: fmt.Sprintf("k%d", i), Email: fmt.Sprintf("u%d@example.com", i)}
	}
	reqs, _, _ := c.Encode(delivery.Batch{Destination: "mc", Segment: "s", Date: "2024-03-01", Op: delivery.OpUpsert, Members: ms})
	var sizes []int
	for _, r := range reqs {
		sizes = append(sizes, len(r.Members))
	}
	if !reflect.DeepEqual(sizes, []int{500, 500, 201}) {
		t.Fatalf("sizes %v", sizes)
	}
	if _, err := New(Config{Name: "mc", BaseURL: "x", ListID: "l", Token: "t", BatchSize: 501}); err == nil {
		t.Fatal("batch size 501 accepted")
	}
}

// Why a member leaves decides the call: erased members are deleted for
// good (by hash, their email is gone), opt-outs are unsubscribed, and a
// member who only left the segment loses its tag and stays subscribed.
func TestRemovalByReason(t *testing.T) {
	c := newConn(t, "http://127.0.0.1:1", delivery.Config{})
	hash := SubscriberHash("a@example.com")
	tests := []struct {
		reason   string
		member   delivery.Member
		wantPath string
		wantBody string
	}{
		{"left_segment", delivery.Member{Key: "k", Email: "a@example.com", RemoteID: hash}, "3.0/lists/list1/members/" + hash + "/tags",
			`{"tags":[{"name":"s","status":"inactive"}]}`},
		{"identifier_changed", delivery.Member{Key: "k", Email: "b@example.com", RemoteID: hash}, "3.0/lists/list1/members/" + hash + "/tags",
			`{"tags":[{"name":"s","status":"inactive"}]}`},
		{"erased", delivery.Member{Key: "k", RemoteID: hash}, "3.0/lists/list1/members/" + hash + "/actions/delete-permanent", ""},
		{"no_consent", delivery.Member{Key: "k", Email: "A@example.com", RemoteID: hash}, "3.0/lists/list1",
			`{"members":[{"email_address":"a@example.com","email_type":"html","status":"unsubscribed"}],"update_existing":true}`},
		{"objected", delivery.Member{Key: "k", Email: "a@example.com", RemoteID: hash}, "3.0/lists/list1",
			`{"members":[{"email_address":"a@example.com","email_type":"html","status":"unsubscribed"}],"update_existing":true}`},
		{"suppressed", delivery.Member{Key: "k", Email: "a@example.com", RemoteID: hash}, "3.0/lists/list1",
			`{"members":[{"email_address":"a@example.com","email_type":"html","status":"unsubscribed"}],"update_existing":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			m := tt.member
			m.Reason = tt.reason
			reqs, skipped, err := c.Encode(delivery.Batch{Destination: "mc", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpRemove, Members: []delivery.Member{m}})
			if err != nil || len(skipped) != 0 || len(reqs) != 1 {
				t.Fatalf("requests %d, skipped %v, err %v", len(reqs), skipped, err)
			}
			if reqs[0].Path != tt.wantPath || string(reqs[0].Body) != tt.wantBody || !reflect.DeepEqual(reqs[0].Members, []string{"k"}) {
				t.Errorf("%s %s %s, want %s %s", reqs[0].Method, reqs[0].Path, reqs[0].Body, tt.wantPath, tt.wantBody)
			}
		})
	}
}
