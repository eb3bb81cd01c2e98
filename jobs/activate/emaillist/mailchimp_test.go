package emaillist

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/internal/conntest"
)

// These tests hold the connector to what the Mailchimp Marketing API
// documents, as the fake server emulates it (fakeserver/mailchimp*.go).

const seg = "rfm:champions"

func mcServer(t *testing.T, o fakeserver.MailchimpOptions) *fakeserver.Server {
	t.Helper()
	srv, err := fakeserver.New(fakeserver.Options{Token: conntest.Token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.SetMailchimp(o)
	return srv
}

func mcConn(t *testing.T, srv *fakeserver.Server, list, auth string) *Connector {
	t.Helper()
	c, err := New(Config{Name: "mc", BaseURL: srv.BaseURL(fakeserver.Mailchimp), ListID: list, Token: conntest.Token,
		Auth: auth, Delivery: conntest.DeliveryConfig()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func batchOf(op string, n int, ms ...delivery.Member) delivery.Batch {
	return delivery.Batch{Destination: "mc", Segment: seg, Date: "2024-03-01", Number: n, Op: op, Members: ms}
}

func member(i int) delivery.Member {
	return delivery.Member{Key: fmt.Sprintf("k%d", i), Email: fmt.Sprintf("user%d@example.com", i), FirstName: "Zoë"}
}

// deliverAll encodes b and delivers each request, summing the outcomes.
func deliverAll(t *testing.T, c *Connector, b delivery.Batch) (delivery.Outcome, error) {
	t.Helper()
	reqs, skipped, err := c.Encode(b)
	if err != nil || len(skipped) > 0 {
		t.Fatalf("encode: %v, skipped %v", err, skipped)
	}
	var sum delivery.Outcome
	for _, r := range reqs {
		out, err := delivery.Deliver(context.Background(), c, r)
		sum.Accepted = append(sum.Accepted, out.Accepted...)
		sum.Rejected = append(sum.Rejected, out.Rejected...)
		sum.Requests += out.Requests
		sum.Splits += out.Splits
		sum.Attempts += out.Attempts
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// rawPost sends body to the fake as a client other than parcours would
// (a signup form, the Mailchimp UI), with the given Authorization.
func rawPost(t *testing.T, srv *fakeserver.Server, path, auth, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.BaseURL(fakeserver.Mailchimp)+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAuth: an API key goes as HTTP Basic (any user name, the key as
// password) and an OAuth token as Bearer ("Authentication methods"); the
// other form is refused with a 401 that is Permanent and never split.
func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		name        string
		serverOAuth bool
		auth        string
		wantErr     bool
	}{
		{"api key as basic", false, "", false},
		{"api key named explicitly", false, AuthAPIKey, false},
		{"oauth token as bearer", true, AuthOAuth, false},
		{"api key sent as bearer", false, AuthOAuth, true},
		{"oauth token sent as basic", true, AuthAPIKey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mcServer(t, fakeserver.MailchimpOptions{OAuth: tc.serverOAuth})
			c := mcConn(t, srv, "list1", tc.auth)
			out, err := deliverAll(t, c, batchOf(delivery.OpUpsert, 1, member(1), member(2)))
			if tc.wantErr {
				var de *delivery.Error
				if !errorsAs(err, &de) || de.Kind != delivery.Permanent || de.Status != http.StatusUnauthorized {
					t.Fatalf("err %v, want permanent 401", err)
				}
				if out.Requests != 1 || out.Splits != 0 || out.Attempts != 1 {
					t.Errorf("requests %d splits %d attempts %d: a refused credential is not retried or split", out.Requests, out.Splits, out.Attempts)
				}
				return
			}
			if err != nil || len(out.Accepted) != 2 {
				t.Fatalf("out %+v err %v", out, err)
			}
		})
	}
}

// TestFakeAuthRefusals: the fake answers what the error glossary says for
// a missing or misplaced credential (401 APIKeyMissing / APIKeyInvalid).
func TestFakeAuthRefusals(t *testing.T) {
	basic := "Basic " + b64("anystring:"+conntest.Token)
	for _, tc := range []struct {
		name  string
		oauth bool
		auth  string
		want  int
	}{
		{"missing", false, "", http.StatusUnauthorized},
		{"api key as bearer", false, "Bearer " + conntest.Token, http.StatusUnauthorized},
		{"wrong api key", false, "Basic " + b64("anystring:nope"), http.StatusUnauthorized},
		{"api key as basic", false, basic, http.StatusOK},
		{"oauth token as basic", true, basic, http.StatusUnauthorized},
		{"oauth token as bearer", true, "Bearer " + conntest.Token, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mcServer(t, fakeserver.MailchimpOptions{OAuth: tc.oauth})
			got := rawPost(t, srv, "/3.0/lists/list1", tc.auth,
				`{"members":[{"email_address":"a@example.com","status_if_new":"subscribed"}],"update_existing":true}`)
			if got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDatacenterFromKey: without a base URL, the API key's suffix names
// the datacenter (https://<dc>.api.mailchimp.com).
func TestDatacenterFromKey(t *testing.T) {
	for _, tc := range []struct {
		key, auth, want string
		ok              bool
	}{
		{"0123456789abcdef-us6", "", "https://us6.api.mailchimp.com", true},
		{"0123456789abcdef-us21", AuthAPIKey, "https://us21.api.mailchimp.com", true},
		{"0123456789abcdef", "", "", false},
		{"oauth-token-us6", AuthOAuth, "", false}, // tokens carry no datacenter
	} {
		c, err := New(Config{Name: "mc", ListID: "l", Token: tc.key, Auth: tc.auth})
		if (err == nil) != tc.ok || err == nil && c.cfg.BaseURL != tc.want {
			t.Errorf("key %s auth %q: err %v base %v, want %s", tc.key, tc.auth, err, c, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), tc.key) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

// TestLeavingIsNotUnsubscribe: leaving a segment takes its tag off the
// member, by subscriber hash; the member stays subscribed on the list and
// is never deleted, whatever form the removal takes.
func TestLeavingIsNotUnsubscribe(t *testing.T) {
	for _, tc := range []struct {
		name string
		rm   func(c *Connector, m delivery.Member) delivery.Member
	}{
		{"with email", func(_ *Connector, m delivery.Member) delivery.Member { return m }},
		{"with email and remote id", func(c *Connector, m delivery.Member) delivery.Member {
			m.RemoteID, _ = c.RemoteID(m)
			return m
		}},
		{"erased, remote id only", func(c *Connector, m delivery.Member) delivery.Member {
			rid, _ := c.RemoteID(m)
			return delivery.Member{Key: m.Key, RemoteID: rid}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mcServer(t, fakeserver.MailchimpOptions{})
			c := mcConn(t, srv, "list1", "")
			if out, err := deliverAll(t, c, batchOf(delivery.OpUpsert, 1, member(1), member(2))); err != nil || len(out.Accepted) != 2 {
				t.Fatalf("upsert %+v %v", out, err)
			}
			out, err := deliverAll(t, c, batchOf(delivery.OpRemove, 1, tc.rm(c, member(1))))
			if err != nil || !slices.Equal(out.Accepted, []string{"k1"}) {
				t.Fatalf("remove %+v %v", out, err)
			}
			h1, h2 := SubscriberHash("user1@example.com"), SubscriberHash("user2@example.com")
			if got := srv.Audience(fakeserver.Mailchimp, fakeserver.TaggedAudience("list1", Tag(seg))); !slices.Equal(got, []string{h2}) {
				t.Errorf("tagged %v, want only %s", got, h2)
			}
			e, ok := srv.Member(fakeserver.Mailchimp, "list1", h1)
			if !ok || !e.Active || e.Fields["status"] != "subscribed" {
				t.Errorf("member who left the segment: on list %v, %+v; want still subscribed", ok, e)
			}
		})
	}
}

// TestLeavingAbsentMember: a tag call for someone the list does not hold
// (404) meets the removal's goal; the same 404 for an unknown list is a
// Permanent failure, told apart with "Get list info".
func TestLeavingAbsentMember(t *testing.T) {
	for _, tc := range []struct {
		name, list string
		wantErr    bool
	}{
		{"absent member", "list1", false},
		{"unknown list", "nolist", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mcServer(t, fakeserver.MailchimpOptions{Lists: []string{"list1"}})
			c := mcConn(t, srv, tc.list, "")
			out, err := deliverAll(t, c, batchOf(delivery.OpRemove, 1, delivery.Member{Key: "gone", RemoteID: SubscriberHash("gone@example.com")}))
			if tc.wantErr {
				if delivery.KindOf(err) != delivery.Permanent || len(out.Accepted) != 0 || out.Splits != 0 {
					t.Fatalf("out %+v err %v, want permanent, nothing accepted", out, err)
				}
				return
			}
			if err != nil || !slices.Equal(out.Accepted, []string{"gone"}) {
				t.Fatalf("out %+v err %v", out, err)
			}
		})
	}
}

// TestJoinKeepsMemberStatus: joining sends status_if_new, not status, so
// a member who unsubscribed in Mailchimp stays unsubscribed (and is not
// refused for compliance); the segment's tag is added all the same.
func TestJoinKeepsMemberStatus(t *testing.T) {
	for _, status := range []string{"unsubscribed", "pending", "subscribed"} {
		t.Run(status, func(t *testing.T) {
			srv := mcServer(t, fakeserver.MailchimpOptions{})
			if got := rawPost(t, srv, "/3.0/lists/list1", "Basic "+b64("ui:"+conntest.Token),
				`{"members":[{"email_address":"user1@example.com","status":"`+status+`"}],"update_existing":true}`); got != http.StatusOK {
				t.Fatalf("seed: %d", got)
			}
			c := mcConn(t, srv, "list1", "")
			out, err := deliverAll(t, c, batchOf(delivery.OpUpsert, 1, member(1)))
			if err != nil || !slices.Equal(out.Accepted, []string{"k1"}) {
				t.Fatalf("out %+v err %v", out, err)
			}
			h := SubscriberHash("user1@example.com")
			if e, _ := srv.Member(fakeserver.Mailchimp, "list1", h); e.Fields["status"] != status || e.Fields["merge.FNAME"] != "Zoë" {
				t.Errorf("member %+v, want status %s kept and fields updated", e.Fields, status)
			}
			if got := srv.Audience(fakeserver.Mailchimp, fakeserver.TaggedAudience("list1", Tag(seg))); !slices.Equal(got, []string{h}) {
				t.Errorf("tagged %v", got)
			}
		})
	}
}

// TestSplitOnlyWhatARecordCaused: records the answer names are taken out
// and the rest go in, with one request; a member in compliance state is a
// final per-member rejection (not retried, not split); request-level
// errors are Permanent for the batch and never split. No reason quotes an
// email address.
func TestSplitOnlyWhatARecordCaused(t *testing.T) {
	bad := "user2@example.com"
	for _, tc := range []struct {
		name         string
		list         string
		opts         fakeserver.MailchimpOptions
		faults       fakeserver.Faults
		wantAccepted []string
		wantRejected map[string]string // key -> reason prefix
		wantKind     delivery.Kind
		wantStatus   int
		wantRequests int
	}{
		{name: "compliance state", list: "list1", opts: fakeserver.MailchimpOptions{Compliance: []string{bad}},
			wantAccepted: []string{"k1", "k3", "k4"}, wantRejected: map[string]string{"k2": ReasonCompliance}, wantRequests: 1},
		{name: "per-member error", list: "list1", faults: fakeserver.Faults{RejectSubstring: "user2"},
			wantAccepted: []string{"k1", "k3", "k4"}, wantRejected: map[string]string{"k2": "ERROR_GENERIC"}, wantRequests: 1},
		{name: "400 naming the record", list: "list1", faults: fakeserver.Faults{RejectSubstring: "user2", RejectMode: fakeserver.WholeNamed},
			wantAccepted: []string{"k1", "k3", "k4"}, wantRejected: map[string]string{"k2": "record"}, wantRequests: 2},
		{name: "unknown list", list: "nolist", opts: fakeserver.MailchimpOptions{Lists: []string{"list1"}},
			wantKind: delivery.Permanent, wantStatus: http.StatusNotFound, wantRequests: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mcServer(t, tc.opts)
			srv.SetFaults(tc.faults)
			c := mcConn(t, srv, tc.list, "")
			out, err := deliverAll(t, c, batchOf(delivery.OpUpsert, 1, member(1), member(2), member(3), member(4)))
			if tc.wantKind != "" {
				var de *delivery.Error
				if !errorsAs(err, &de) || de.Kind != tc.wantKind || de.Status != tc.wantStatus {
					t.Fatalf("err %v, want %s %d", err, tc.wantKind, tc.wantStatus)
				}
				if strings.Contains(err.Error(), "@") {
					t.Errorf("error quotes an email: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if out.Requests != tc.wantRequests || out.Attempts != tc.wantRequests {
				t.Errorf("requests %d attempts %d, want %d each (no retry, no bisection)", out.Requests, out.Attempts, tc.wantRequests)
			}
			if !slices.Equal(out.Accepted, tc.wantAccepted) {
				t.Errorf("accepted %v, want %v", out.Accepted, tc.wantAccepted)
			}
			if len(out.Rejected) != len(tc.wantRejected) {
				t.Errorf("rejected %v, want %v", out.Rejected, tc.wantRejected)
			}
			for _, r := range out.Rejected {
				if want, ok := tc.wantRejected[r.Key]; !ok || !strings.HasPrefix(r.Reason, want) {
					t.Errorf("rejected %s: %q, want prefix %q", r.Key, r.Reason, want)
				}
				if strings.Contains(r.Reason, "@") {
					t.Errorf("reason quotes an email: %q", r.Reason)
				}
			}
		})
	}
}

func errorsAs(err error, target **delivery.Error) bool { return errors.As(err, target) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
