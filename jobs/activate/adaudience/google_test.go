package adaudience

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/internal/conntest"
)

const googleList = "customers/123/userLists/456"

func newGoogle(t *testing.T, base string, dc delivery.Config) *Google {
	t.Helper()
	g, err := NewGoogle(GoogleConfig{Name: "gads", BaseURL: base, CustomerID: "123", UserListID: "456", Token: conntest.Token,
		DefaultCountry: "FR", MaxPerRequest: 7, Delivery: dc})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func hashOf(rid string) []string { return []string{rid[len("em:"):]} }

func TestGoogleScenarios(t *testing.T) {
	conntest.Run(t, conntest.Target{
		Platform: fakeserver.Google,
		Audience: googleList,
		New: func(srv *fakeserver.Server, dc delivery.Config) (delivery.Connector, error) {
			return newGoogle(t, srv.BaseURL(fakeserver.Google), dc), nil
		},
		RefuseValues: func(c delivery.Connector, m delivery.Member) []string {
			rid, err := c.RemoteID(m)
			if err != nil {
				t.Fatal(err)
			}
			return hashOf(rid)
		},
	})
}

func TestGoogleEncodeShape(t *testing.T) {
	g := newGoogle(t, "http://127.0.0.1:1", delivery.Config{})
	b := delivery.Batch{Destination: "gads", Segment: "rfm:champions", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert,
		Members: []delivery.Member{{Key: "k1", Email: " J.Doe@Gmail.com", Phone: "06 12 34 56 78", FirstName: "Zoë", LastName: "Dupont",
			CountryCode: "fr", PostalCode: "75001", AdUserData: true, AdPersonalization: false}}}
	reqs, skipped, err := g.Encode(b)
	if err != nil || len(skipped) != 0 || len(reqs) != 1 {
		t.Fatal(err, skipped, len(reqs))
	}
	// Hashes: printf %s jdoe@gmail.com | sha256sum, +33612345678, zoë, dupont.
	want := `{"job":{"type":"CUSTOMER_MATCH_USER_LIST","customerMatchUserListMetadata":{"userList":"customers/123/userLists/456",` +
		`"consent":{"adUserData":"GRANTED","adPersonalization":"DENIED"}}},"enablePartialFailure":true,"operations":[{"create":{"userIdentifiers":[` +
		`{"hashedEmail":"910789803908d9ab8a57b28ff0af7ab81b9607356aef6f18d8499eb1489ed8ab"},` +
		`{"hashedPhoneNumber":"42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"},` +
		`{"addressInfo":{"hashedFirstName":"2752b88686847fa5c86f47b94ce652b7b3f22a91c37617d451a4db9afa431450",` +
		`"hashedLastName":"b043864b7ffb308f63b438a86e60c6d231aae29e020be80c944801e065229e15","countryCode":"FR","postalCode":"75001"}}]}}]}`
	r := reqs[0]
	if string(r.Body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.Body, want)
	}
	if r.Path != "v21/customers/123/offlineUserDataJobs" || r.Key != "gads/rfm:champions/2024-03-01/upsert/1" || r.Header.Get("Authorization") != "" {
		t.Errorf("path %s key %s auth %q (the token must not be in a planned request)", r.Path, r.Key, r.Header.Get("Authorization"))
	}
	if rid, _ := g.RemoteID(b.Members[0]); rid != "em:910789803908d9ab8a57b28ff0af7ab81b9607356aef6f18d8499eb1489ed8ab" {
		t.Errorf("RemoteID %s", rid)
	}
	again, _, _ := g.Encode(b)
	if !reflect.DeepEqual(reqs, again) {
		t.Error("Encode is not deterministic")
	}
}

func TestGoogleIdentifiersAndSkips(t *testing.T) {
	g := newGoogle(t, "http://127.0.0.1:1", delivery.Config{})
	pre := "910789803908D9AB8A57B28FF0AF7AB81B9607356AEF6F18D8499EB1489ED8AB"
	tests := []struct {
		name    string
		m       delivery.Member
		wantRID string
		skip    bool
	}{
		{"prehashed email passes through", delivery.Member{Key: "a", Email: pre}, "em:" + strings.ToLower(pre), false},
		{"phone only, default country", delivery.Member{Key: "b", Phone: "06 12 34 56 78"}, "ph:42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8", false},
		{"bad email, good phone", delivery.Member{Key: "c", Email: "nope", Phone: "+33612345678"}, "ph:42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8", false},
		{"remote id only (erased)", delivery.Member{Key: "d", RemoteID: "ph:42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"}, "ph:42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8", false},
		{"nothing usable", delivery.Member{Key: "e", Email: "nope", Phone: "12", FirstName: "A", LastName: "B", CountryCode: "FR", PostalCode: "75001"}, "", true},
		{"bad remote id", delivery.Member{Key: "f", RemoteID: "em:xyz"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rid, err := g.RemoteID(tt.m)
			if tt.skip != (err != nil) || rid != tt.wantRID {
				t.Fatalf("RemoteID = %q, %v; want %q (skip %v)", rid, err, tt.wantRID, tt.skip)
			}
			reqs, skipped, err := g.Encode(delivery.Batch{Destination: "gads", Segment: "s", Date: "2024-03-01", Op: delivery.OpUpsert, Members: []delivery.Member{tt.m}})
			if err != nil {
				t.Fatal(err)
			}
			if tt.skip != (len(skipped) == 1) || tt.skip != (len(reqs) == 0) {
				t.Fatalf("skipped %v requests %d", skipped, len(reqs))
			}
			if tt.skip && !strings.HasPrefix(skipped[0].Reason, "no_identifier") {
				t.Fatalf("reason %q", skipped[0].Reason)
			}
		})
	}
}

// TestGoogleConsentSplit: one job per consent state, each carrying it,
// and the list records every member under its own state.
func TestGoogleConsentSplit(t *testing.T) {
	srv, err := fakeserver.New(fakeserver.Options{Token: conntest.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	g := newGoogle(t, srv.BaseURL(fakeserver.Google), conntest.DeliveryConfig())
	ms := conntest.Members(20) // all four consent states, 5 members each
	reqs, _, err := g.Encode(delivery.Batch{Destination: "gads", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert, Members: ms})
	if err != nil {
		t.Fatal(err)
	}
	// 5 per state at 7 per request: one request per state, granted first.
	wantConsent := []string{`"adUserData":"GRANTED","adPersonalization":"GRANTED"`, `"adUserData":"GRANTED","adPersonalization":"DENIED"`,
		`"adUserData":"DENIED","adPersonalization":"GRANTED"`, `"adUserData":"DENIED","adPersonalization":"DENIED"`}
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	for i, r := range reqs {
		if !strings.Contains(string(r.Body), wantConsent[i]) || len(r.Members) != 5 || r.Key != fmt.Sprintf("gads/s/2024-03-01/upsert/1/p%d", i+1) {
			t.Errorf("request %d: key %s, %d members, consent not %s", i, r.Key, len(r.Members), wantConsent[i])
		}
		if _, err := delivery.Deliver(context.Background(), g, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		rid, _ := g.RemoteID(m)
		e, ok := srv.Member(fakeserver.Google, googleList, rid)
		if !ok || e.Fields["ad_user_data"] != consentValue(m.AdUserData) || e.Fields["ad_personalization"] != consentValue(m.AdPersonalization) {
			t.Errorf("member %s: on list %v with %v, want consent %v/%v", m.Key, ok, e.Fields, m.AdUserData, m.AdPersonalization)
		}
	}
}

func TestGoogleAtMost10000PerRequest(t *testing.T) {
	g, err := NewGoogle(GoogleConfig{Name: "gads", BaseURL: "http://127.0.0.1:1", CustomerID: "1", UserListID: "2", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ms := make([]delivery.Member, 25000)
	for i := range ms {
		ms[i] = delivery.Member{Key: fmt.Sprintf("k%d", i), Email: fmt.Sprintf("u%d@example.com", i), AdUserData: true, AdPersonalization: true}
	}
	reqs, _, err := g.Encode(delivery.Batch{Destination: "gads", Segment: "s", Date: "2024-03-01", Number: 3, Op: delivery.OpRemove, Members: ms})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range reqs {
		sizes = append(sizes, len(r.Members))
		if strings.Contains(string(r.Body), "consent") || !strings.Contains(string(r.Body), `"remove"`) {
			t.Fatal("removal jobs carry remove operations and no consent")
		}
	}
	if !reflect.DeepEqual(sizes, []int{10000, 10000, 5000}) {
		t.Fatalf("sizes %v", sizes)
	}
	if _, err := NewGoogle(GoogleConfig{Name: "g", BaseURL: "x", CustomerID: "1", UserListID: "2", Token: "t", MaxPerRequest: 10001}); err == nil {
		t.Fatal("MaxPerRequest above 10,000 accepted")
	}
}

func TestGoogleWrongTokenIsPermanent(t *testing.T) {
	srv, err := fakeserver.New(fakeserver.Options{Token: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	g := newGoogle(t, srv.BaseURL(fakeserver.Google), conntest.DeliveryConfig())
	reqs, _, _ := g.Encode(delivery.Batch{Destination: "gads", Segment: "s", Date: "2024-03-01", Op: delivery.OpUpsert,
		Members: []delivery.Member{{Key: "a", Email: "a@example.com"}}})
	res, err := g.Send(context.Background(), reqs[0])
	if delivery.KindOf(err) != delivery.Permanent || res.Attempts != 1 {
		t.Fatalf("kind %q attempts %d: %v", delivery.KindOf(err), res.Attempts, err)
	}
}
