package adaudience

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/internal/conntest"
)

func newMeta(t *testing.T, base string, dc delivery.Config) *Meta {
	t.Helper()
	m, err := NewMeta(MetaConfig{Name: "fb", BaseURL: base, AudienceID: "aud1", Token: conntest.Token, DefaultCountry: "FR", MaxPerRequest: 7, Delivery: dc})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMetaScenarios(t *testing.T) {
	conntest.Run(t, conntest.Target{
		Platform: fakeserver.Meta,
		Audience: "aud1",
		New: func(srv *fakeserver.Server, dc delivery.Config) (delivery.Connector, error) {
			return newMeta(t, srv.BaseURL(fakeserver.Meta), dc), nil
		},
		RefuseValues: func(c delivery.Connector, m delivery.Member) []string {
			rid, err := c.RemoteID(m)
			if err != nil {
				t.Fatal(err)
			}
			return metaHashOf(rid)
		},
	})
}

func TestMetaEncodeShape(t *testing.T) {
	mt := newMeta(t, "http://127.0.0.1:1", delivery.Config{})
	b := delivery.Batch{Destination: "fb", Segment: "s", Date: "2024-03-01", Number: 4, Op: delivery.OpUpsert,
		Members: []delivery.Member{{Key: "k1", Email: "J.Doe@Gmail.com ", Phone: "06 12 34 56 78", FirstName: "Mary Ann", LastName: "O'Neil",
			CountryCode: "FR", PostalCode: "75 001"}}}
	reqs, skipped, err := mt.Encode(b)
	if err != nil || len(skipped) != 0 || len(reqs) != 1 {
		t.Fatal(err, skipped, len(reqs))
	}
	// printf %s VALUE | sha256sum for j.doe@gmail.com (Meta keeps Gmail
	// dots), 33612345678, maryann, oneil, fr, 75001.
	row := `["3ce6f3866c13320081cd44f40402527b94f4c2ef24ea1ee163e83650b8f04d01","8a3e7886c9335e82e02299fa3e87b46e2de3b0c63d56003e30a5029394a47661",` +
		`"16b3f07f0ec2f9dd127b71dc2e6c791b7d93116a1c3bc99d057eaa7a8a077e73","67a42a846e98e3c1a96cd6ba14883a5ea05990cd93964ce8b832aa9497ca785c",` +
		`"67ad8f41a7bb0a18c45f3efd8f6a32bdcd832bcf8f3f2eb44006c03d53076e18","3f089dbdff98360a35193e7d401b76b21f5c0d5d6fb76a28660aaaed83a4c3e3"]`
	want := `{"payload":{"schema":["EMAIL","PHONE","FN","LN","COUNTRY","ZIP"],"is_raw":true,"data":[` + row + `]},"session":{"session_id":` +
		fmt.Sprint(sessionID("fb/s/2024-03-01/upsert/4")) + `,"batch_seq":1,"last_batch_flag":true,"estimated_num_total":1}}`
	r := reqs[0]
	if string(r.Body) != want || r.Method != http.MethodPost || r.Path != DefaultMetaAPIVersion+"/aud1/users" {
		t.Errorf("%s %s body\n%s\nwant\n%s", r.Method, r.Path, r.Body, want)
	}
	b.Op = delivery.OpRemove
	reqs, _, _ = mt.Encode(b)
	if reqs[0].Method != http.MethodDelete {
		t.Errorf("removal method %s, want DELETE", reqs[0].Method)
	}
}

func TestMetaSessionsAndLimit(t *testing.T) {
	mt, err := NewMeta(MetaConfig{Name: "fb", BaseURL: "http://127.0.0.1:1", AudienceID: "a", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ms := make([]delivery.Member, 20001)
	for i := range ms {
		ms[i] = delivery.Member{Key: fmt.Sprintf("k%d", i), Email: fmt.Sprintf("u%d@example.com", i)}
	}
	ms[5].Email = "broken" // skipped: 20,000 rows remain
	reqs, skipped, err := mt.Encode(delivery.Batch{Destination: "fb", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert, Members: ms})
	if err != nil || len(skipped) != 1 || skipped[0].Key != "k5" {
		t.Fatal(err, skipped)
	}
	// Each request is a whole session of its own: parts fail, are
	// dead-lettered and split independently.
	var sizes []int
	seen := map[int64]bool{}
	for i, r := range reqs {
		sizes = append(sizes, len(r.Members))
		var body metaBody
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		want := metaSession{SessionID: sessionID(r.Key), BatchSeq: 1, LastBatchFlag: true, EstimatedNumTotal: 10000}
		if body.Session != want || want.SessionID <= 0 || seen[want.SessionID] {
			t.Errorf("request %d session %+v, want %+v, distinct and positive", i, body.Session, want)
		}
		seen[want.SessionID] = true
	}
	if !reflect.DeepEqual(sizes, []int{10000, 10000}) {
		t.Fatalf("sizes %v", sizes)
	}
}

func TestMetaErrorCodes(t *testing.T) {
	tests := []struct {
		code int
		want delivery.Kind
		sub  int
		msg  string
	}{{17, delivery.Temporary, 1, "m"}, {80003, delivery.Temporary, 1, "m"}, {2, delivery.Temporary, 1, "m"}, {190, delivery.Permanent, 1, "m"},
		{200, delivery.Permanent, 1, "m"}, {100, delivery.Rejected, 1, "m"},
		// Request-level refusals are never split.
		{100, delivery.Permanent, 1713230, "Invalid parameter"}, {100, delivery.Permanent, 33, "Object does not exist"},
		{2650, delivery.Permanent, 0, "Failed to update the custom audience"}, {2663, delivery.Permanent, 0, "Terms of service has not been accepted"},
		{100, delivery.Permanent, 0, "Invalid appsecret_proof provided in the API argument"}}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"message":%q,"type":"OAuthException","code":%d,"error_subcode":%d,"fbtrace_id":"x"}}`, tt.msg, tt.code, tt.sub)
		}))
		mt := newMeta(t, srv.URL, conntest.DeliveryConfig())
		reqs, _, _ := mt.Encode(delivery.Batch{Destination: "fb", Segment: "s", Date: "2024-03-01", Op: delivery.OpUpsert,
			Members: []delivery.Member{{Key: "a", Email: "a@example.com"}}})
		_, err := mt.Send(context.Background(), reqs[0])
		if got := delivery.KindOf(err); got != tt.want {
			t.Errorf("code %d/%d: kind %q, want %q (%v)", tt.code, tt.sub, got, tt.want, err)
		}
		srv.Close()
	}
}
