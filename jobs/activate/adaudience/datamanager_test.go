package adaudience

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/internal/conntest"
)

const dmList = "customers/123/userLists/456"

func newDM(t *testing.T, base string, dc delivery.Config) *DataManager {
	t.Helper()
	g, err := NewDataManager(DataManagerConfig{Name: "gdm", BaseURL: base, AccountID: "123", UserListID: "456", Token: conntest.Token,
		DefaultCountry: "FR", MaxPerRequest: 7, Delivery: dc})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func newDMServer(t *testing.T) *fakeserver.Server {
	t.Helper()
	srv, err := fakeserver.New(fakeserver.Options{Token: conntest.Token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func upsert(ms ...delivery.Member) delivery.Batch {
	return delivery.Batch{Destination: "gdm", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert, Members: ms}
}

func granted(ms []delivery.Member) []delivery.Member {
	for i := range ms {
		ms[i].AdUserData, ms[i].AdPersonalization = true, true
	}
	return ms
}

// edit re-keys r with its body changed by f (a request the encoder would
// not make, to reach the server's refusals).
func edit(t *testing.T, r delivery.Request, f func(map[string]any)) delivery.Request {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	f(b)
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	r.Body, r.Key = raw, r.Key+"/edited"
	return r
}

// TestDataManagerScenarios is the fault matrix, with members lacking
// consent among those planned: they never reach the list.
func TestDataManagerScenarios(t *testing.T) {
	conntest.Run(t, conntest.Target{
		Platform: fakeserver.DataManager,
		Audience: dmList,
		New: func(srv *fakeserver.Server, dc delivery.Config) (delivery.Connector, error) {
			return newDM(t, srv.BaseURL(fakeserver.DataManager), dc), nil
		},
		RefuseValues: func(c delivery.Connector, m delivery.Member) []string {
			rid, err := c.RemoteID(m)
			if err != nil {
				t.Fatal(err)
			}
			return []string{rid[len("em:"):]}
		},
		Consent:                  func(m delivery.Member) bool { return m.AdUserData && m.AdPersonalization },
		UnnamedRejectIsPermanent: true,
	})
}

func TestDataManagerEncodeShape(t *testing.T) {
	g, err := NewDataManager(DataManagerConfig{Name: "gdm", BaseURL: "http://127.0.0.1:1", AccountID: "123", UserListID: "456",
		LoginAccountID: "999", Token: "t", DefaultCountry: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	b := upsert(delivery.Member{Key: "k1", Email: " J.Doe@Gmail.com", Phone: "06 12 34 56 78", FirstName: "Zoë", LastName: "Dupont",
		CountryCode: "fr", PostalCode: "75001", AdUserData: true, AdPersonalization: true})
	b.Segment, b.Number = "rfm:champions", 1
	reqs, skipped, err := g.Encode(b)
	if err != nil || len(skipped) != 0 || len(reqs) != 1 {
		t.Fatal(err, skipped, len(reqs))
	}
	// Hashes: printf %s jdoe@gmail.com | sha256sum, +33612345678, zoë, dupont.
	want := `{"destinations":[{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"123"},` +
		`"loginAccount":{"accountType":"GOOGLE_ADS","accountId":"999"},"productDestinationId":"456"}],` +
		`"audienceMembers":[{"userData":{"userIdentifiers":[` +
		`{"emailAddress":"910789803908d9ab8a57b28ff0af7ab81b9607356aef6f18d8499eb1489ed8ab"},` +
		`{"phoneNumber":"42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"},` +
		`{"address":{"givenName":"2752b88686847fa5c86f47b94ce652b7b3f22a91c37617d451a4db9afa431450",` +
		`"familyName":"b043864b7ffb308f63b438a86e60c6d231aae29e020be80c944801e065229e15","regionCode":"FR","postalCode":"75001"}}]},` +
		`"consent":{"adUserData":"CONSENT_GRANTED","adPersonalization":"CONSENT_GRANTED"}}],` +
		`"encoding":"HEX","termsOfService":{"customerMatchTermsOfServiceStatus":"ACCEPTED"}}`
	r := reqs[0]
	if string(r.Body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.Body, want)
	}
	if r.Path != "v1/audienceMembers:ingest" || r.Key != "gdm/rfm:champions/2024-03-01/upsert/1" || r.Header.Get("Authorization") != "" {
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

// TestDataManagerConsentExcludedAtPlan: of the four consent states only
// "both granted" is encoded; the others are plan-time exclusions whose
// reason names the missing signal, and the list holds only the granted.
// (The Ads connector sent DENIED groups as DENIED jobs and skipped none.)
func TestDataManagerConsentExcludedAtPlan(t *testing.T) {
	srv := newDMServer(t)
	g := newDM(t, srv.BaseURL(fakeserver.DataManager), conntest.DeliveryConfig())
	ms := conntest.Members(20) // five members in each consent state
	reqs, skipped, err := g.Encode(upsert(ms...))
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, s := range skipped {
		code, _, _ := strings.Cut(s.Reason, ":")
		reasons[code]++
	}
	if want := map[string]int{"consent_ad_user_data": 10, "consent_ad_personalization": 5}; !reflect.DeepEqual(reasons, want) {
		t.Errorf("exclusions by reason %v, want %v", reasons, want)
	}
	for _, r := range reqs {
		if strings.Contains(string(r.Body), "DENIED") {
			t.Errorf("%s carries a DENIED consent", r.Key)
		}
		if _, err := delivery.Deliver(context.Background(), g, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		rid, _ := g.RemoteID(m)
		e, on := srv.Member(fakeserver.DataManager, dmList, rid)
		if want := m.AdUserData && m.AdPersonalization; on != want || on && e.Fields["ad_personalization"] != "CONSENT_GRANTED" {
			t.Errorf("member %s (consent %v/%v): on list %v %v", m.Key, m.AdUserData, m.AdPersonalization, on, e.Fields)
		}
	}
	// Removals need no consent: everyone can be taken out.
	rm, skipped, _ := g.Encode(delivery.Batch{Destination: "gdm", Segment: "s", Date: "2024-03-01", Op: delivery.OpRemove, Members: ms})
	if len(skipped) != 0 || len(rm) != 3 || strings.Contains(string(rm[0].Body), "consent") || rm[0].Path != "v1/audienceMembers:remove" {
		t.Errorf("removal: %d skipped, %d requests", len(skipped), len(rm))
	}
	// And the server refuses a member sent without consent, by index.
	r := edit(t, reqs[0], func(b map[string]any) {
		b["audienceMembers"].([]any)[1].(map[string]any)["consent"] = map[string]any{"adUserData": "CONSENT_DENIED", "adPersonalization": "CONSENT_GRANTED"}
	})
	_, err = g.Send(context.Background(), r)
	var de *delivery.Error
	if !errorsAs(err, &de) || de.Kind != delivery.Rejected || len(de.Bad) != 1 || de.Bad[0].Key != r.Members[1] {
		t.Fatalf("member without consent: %v", err)
	}
}

func errorsAs(err error, de **delivery.Error) bool {
	e, ok := err.(*delivery.Error)
	*de = e
	return ok
}

// TestDataManagerRequestErrorsArePermanent: refusals no record caused
// fail the request once, Permanent, with no subset sent. (The Ads
// connector turned a 400 naming no operation into Rejected, and Deliver
// bisected it into ever smaller requests.)
func TestDataManagerRequestErrorsArePermanent(t *testing.T) {
	ms := granted(conntest.Members(7))
	tests := []struct {
		name   string
		setup  func(*fakeserver.Server, *DataManager)
		edit   func(map[string]any)
		token  string
		reason string
	}{
		{name: "terms not accepted", edit: func(b map[string]any) { delete(b, "termsOfService") }, reason: "TERMS_AND_CONDITIONS_NOT_SIGNED"},
		{name: "unknown user list", setup: func(s *fakeserver.Server, _ *DataManager) { s.SetDataManagerLists("customers/123/userLists/1") }, reason: "INVALID_USER_LIST_ID"},
		{name: "wrong destination account", edit: func(b map[string]any) {
			b["destinations"].([]any)[0].(map[string]any)["operatingAccount"] = map[string]any{"accountType": "GOOGLE_ADS", "accountId": "12-3"}
		}, reason: "INVALID_DESTINATION"},
		{name: "encoding not HEX", edit: func(b map[string]any) { b["encoding"] = "BASE64" }, reason: "INVALID_ARGUMENT"},
		{name: "more than 10,000 members", edit: func(b map[string]any) {
			am := b["audienceMembers"].([]any)
			for len(am) <= 10000 {
				am = append(am, am[0])
			}
			b["audienceMembers"] = am
		}, reason: "TOO_MANY_AUDIENCE_MEMBERS"},
		{name: "wrong token", token: "other", reason: "401"},
		{name: "invalid argument naming nobody", setup: func(s *fakeserver.Server, g *DataManager) {
			rid, _ := g.RemoteID(ms[3])
			s.SetFaults(fakeserver.Faults{RejectMode: fakeserver.WholeUnnamed, RejectValues: []string{rid[3:]}})
		}, reason: "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := conntest.Token
			if tt.token != "" {
				token = tt.token
			}
			srv, err := fakeserver.New(fakeserver.Options{Token: token})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dc := conntest.DeliveryConfig()
			dc.Timeout = 10 * time.Second // the 10,001-member body takes longer than the matrix's timeout
			g := newDM(t, srv.BaseURL(fakeserver.DataManager), dc)
			if tt.setup != nil {
				tt.setup(srv, g)
			}
			reqs, _, err := g.Encode(upsert(ms...))
			if err != nil || len(reqs) != 1 {
				t.Fatal(err, len(reqs))
			}
			r := reqs[0]
			if tt.edit != nil {
				r = edit(t, r, tt.edit)
			}
			out, err := delivery.Deliver(context.Background(), g, r)
			if delivery.KindOf(err) != delivery.Permanent || out.Requests != 1 || out.Splits != 0 || out.Attempts != 1 || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("kind %q, %d requests, %d splits, %d attempts: %v", delivery.KindOf(err), out.Requests, out.Splits, out.Attempts, err)
			}
			if n := len(srv.Audience(fakeserver.DataManager, dmList)); n != 0 {
				t.Fatalf("%d members applied", n)
			}
		})
	}
}

// TestDataManagerNamedMembers: members Google names by index (refused, or
// a malformed hash) are taken out and the rest re-sent once, no bisection.
func TestDataManagerNamedMembers(t *testing.T) {
	srv := newDMServer(t)
	g := newDM(t, srv.BaseURL(fakeserver.DataManager), conntest.DeliveryConfig())
	ms := granted(conntest.Members(7))
	rid, _ := g.RemoteID(ms[2])
	srv.SetFaults(fakeserver.Faults{RejectValues: []string{rid[3:]}})
	reqs, _, _ := g.Encode(upsert(ms...))
	r := edit(t, reqs[0], func(b map[string]any) {
		id := b["audienceMembers"].([]any)[5].(map[string]any)["userData"].(map[string]any)["userIdentifiers"].([]any)[0].(map[string]any)
		id["emailAddress"] = "not-hex"
	})
	out, err := delivery.Deliver(context.Background(), g, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []delivery.Rejection{{Key: ms[2].Key, Reason: "INVALID_AUDIENCE_MEMBER"}, {Key: ms[5].Key, Reason: "INVALID_HEX_ENCODING"}}
	if !reflect.DeepEqual(out.Rejected, want) || len(out.Accepted) != 5 || out.Requests != 2 || out.Splits != 1 {
		t.Fatalf("rejected %v, %d accepted, %d requests, %d splits", out.Rejected, len(out.Accepted), out.Requests, out.Splits)
	}
	if n := len(srv.Audience(fakeserver.DataManager, dmList)); n != 5 {
		t.Fatalf("list holds %d, want 5", n)
	}
}

// TestDataManagerRequestStatus: after the ingest call succeeds the request
// status is read; FAILURE rejects every member with Google's reason,
// PARTIAL_SUCCESS and PROCESSING leave them delivered.
func TestDataManagerRequestStatus(t *testing.T) {
	for _, tt := range []struct {
		status   string
		rejected bool
	}{{"SUCCESS", false}, {"PROCESSING", false}, {"PARTIAL_SUCCESS", false}, {"FAILURE", true}} {
		t.Run(tt.status, func(t *testing.T) {
			srv := newDMServer(t)
			srv.SetDataManagerProcessing(tt.status, "PROCESSING_ERROR_REASON_INVALID_CUSTOMER_ID")
			g := newDM(t, srv.BaseURL(fakeserver.DataManager), conntest.DeliveryConfig())
			reqs, _, _ := g.Encode(upsert(granted(conntest.Members(3))...))
			res, err := g.Send(context.Background(), reqs[0])
			if err != nil {
				t.Fatal(err)
			}
			if st := srv.Stats(); st.Requests != 2 {
				t.Fatalf("%d calls, want ingest and requestStatus:retrieve", st.Requests)
			}
			if tt.rejected {
				if len(res.Accepted) != 0 || len(res.Rejected) != 3 || !strings.Contains(res.Rejected[0].Reason, "PROCESSING_ERROR_REASON_INVALID_CUSTOMER_ID") {
					t.Fatalf("accepted %v rejected %v", res.Accepted, res.Rejected)
				}
				return
			}
			if len(res.Accepted) != 3 || len(res.Rejected) != 0 {
				t.Fatalf("accepted %v rejected %v", res.Accepted, res.Rejected)
			}
		})
	}
}

func TestDataManagerAtMost10000PerRequest(t *testing.T) {
	g, err := NewDataManager(DataManagerConfig{Name: "gdm", BaseURL: "http://127.0.0.1:1", AccountID: "1", UserListID: "2", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ms := make([]delivery.Member, 25000)
	for i := range ms {
		ms[i] = delivery.Member{Key: fmt.Sprintf("k%d", i), Email: fmt.Sprintf("u%d@example.com", i), AdUserData: true, AdPersonalization: true}
	}
	for _, op := range []string{delivery.OpUpsert, delivery.OpRemove} {
		reqs, _, err := g.Encode(delivery.Batch{Destination: "gdm", Segment: "s", Date: "2024-03-01", Number: 3, Op: op, Members: ms})
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for _, r := range reqs {
			sizes = append(sizes, len(r.Members))
			if op == delivery.OpRemove && (strings.Contains(string(r.Body), "consent") || strings.Contains(string(r.Body), "termsOfService")) {
				t.Fatal("removals carry no consent and no terms")
			}
		}
		if !reflect.DeepEqual(sizes, []int{10000, 10000, 5000}) {
			t.Fatalf("%s sizes %v", op, sizes)
		}
	}
	for _, bad := range []DataManagerConfig{
		{Name: "g", BaseURL: "x", AccountID: "1", UserListID: "2", Token: "t", MaxPerRequest: 10001},
		{Name: "g", BaseURL: "x", AccountID: "1-2", UserListID: "2", Token: "t"},
		{Name: "g", BaseURL: "x", AccountID: "1", UserListID: "2", Token: "t", LoginAccountType: "GOOGLE_ADS"},
		{Name: "g", BaseURL: "x", AccountID: "1", UserListID: "2", Token: "t", AccountType: "ADS"},
		{Name: "g", BaseURL: "x", AccountID: "1", UserListID: "2"},
	} {
		if _, err := NewDataManager(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}
