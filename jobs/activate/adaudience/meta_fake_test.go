package adaudience

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/internal/conntest"
)

const metaTestAppSecret = "app-secret"

// TestMetaAgainstFake runs one batch of 6 members through Deliver against
// the fake server set up as Meta behaves, and checks who got in, how many
// calls it took and the error kind.
func TestMetaAgainstFake(t *testing.T) {
	members := conntest.Members(6)
	const bad = 2 // the member the server refuses, where a case asks
	tests := []struct {
		name      string
		serverApp string // app secret the server requires
		appSecret string // app secret the connector has
		token     string
		meta      fakeserver.MetaOptions
		refuseBad bool
		mode      fakeserver.RejectMode
		wantKind  delivery.Kind
		wantIn    int // members the audience holds afterwards
		wantRej   []string
		maxCalls  int
	}{
		// [] in a 200 is "no samples", not an unreadable answer.
		{name: "samples_array_empty", meta: fakeserver.MetaOptions{Samples: fakeserver.MetaSamplesArray}, wantIn: 6, maxCalls: 1},
		{name: "samples_array_named", meta: fakeserver.MetaOptions{Samples: fakeserver.MetaSamplesArray}, refuseBad: true, wantIn: 5, wantRej: []string{members[bad].Key}, maxCalls: 1},
		{name: "samples_map_named", refuseBad: true, wantIn: 5, wantRej: []string{members[bad].Key}, maxCalls: 1},
		// Subsets get sessions of their own: the first one closing its
		// session must not get the second refused.
		{name: "bisected_subsets_fresh_sessions", refuseBad: true, mode: fakeserver.WholeUnnamed, wantIn: 5, wantRej: []string{members[bad].Key}, maxCalls: 8},
		// Request-level refusals: one call, Permanent, nobody split out.
		{name: "upload_blocked", meta: fakeserver.MetaOptions{Refuse: fakeserver.MetaUploadBlocked}, wantKind: delivery.Permanent, maxCalls: 1},
		{name: "unknown_audience", meta: fakeserver.MetaOptions{Refuse: fakeserver.MetaUnknownAudience}, wantKind: delivery.Permanent, maxCalls: 1},
		{name: "terms_not_accepted", meta: fakeserver.MetaOptions{Refuse: fakeserver.MetaTermsNotAccepted}, wantKind: delivery.Permanent, maxCalls: 1},
		{name: "update_failed", meta: fakeserver.MetaOptions{Refuse: fakeserver.MetaUpdateFailed}, wantKind: delivery.Permanent, maxCalls: 1},
		{name: "no_permission", meta: fakeserver.MetaOptions{Refuse: fakeserver.MetaNoPermission}, wantKind: delivery.Permanent, maxCalls: 1},
		{name: "wrong_token", token: "stolen", wantKind: delivery.Permanent, maxCalls: 1},
		// appsecret_proof: HMAC-SHA256(token) keyed by the app secret.
		{name: "appsecret_proof_ok", serverApp: metaTestAppSecret, appSecret: metaTestAppSecret, wantIn: 6, maxCalls: 1},
		{name: "appsecret_proof_missing", serverApp: metaTestAppSecret, wantKind: delivery.Permanent, maxCalls: 1},
		{name: "appsecret_proof_wrong", serverApp: metaTestAppSecret, appSecret: "other", wantKind: delivery.Permanent, maxCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := fakeserver.New(fakeserver.Options{Token: conntest.Token, MetaAppSecret: tt.serverApp})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			token := conntest.Token
			if tt.token != "" {
				token = tt.token
			}
			mt, err := NewMeta(MetaConfig{Name: "fb", BaseURL: srv.BaseURL(fakeserver.Meta), AudienceID: "aud1", Token: token,
				AppSecret: tt.appSecret, DefaultCountry: "FR", Delivery: conntest.DeliveryConfig()})
			if err != nil {
				t.Fatal(err)
			}
			f := fakeserver.Faults{RejectMode: tt.mode}
			if tt.refuseBad {
				rid, _ := mt.RemoteID(members[bad])
				f.RejectValues = metaHashOf(rid)
			}
			srv.SetFaults(f)
			srv.SetMeta(tt.meta)
			reqs, _, err := mt.Encode(delivery.Batch{Destination: "fb", Segment: "s", Date: "2024-03-01", Op: delivery.OpUpsert, Members: members})
			if err != nil || len(reqs) != 1 {
				t.Fatal(err, len(reqs))
			}
			out, err := delivery.Deliver(context.Background(), mt, reqs[0])
			if got := delivery.KindOf(err); got != tt.wantKind {
				t.Fatalf("kind %q, want %q (%v)", got, tt.wantKind, err)
			}
			if out.Requests > tt.maxCalls {
				t.Errorf("%d calls, want at most %d", out.Requests, tt.maxCalls)
			}
			if n := len(srv.Audience(fakeserver.Meta, "aud1")); n != tt.wantIn {
				t.Errorf("audience holds %d, want %d", n, tt.wantIn)
			}
			if got := keysOfRejections(out.Rejected); !slices.Equal(got, tt.wantRej) {
				t.Errorf("rejected %v, want %v", got, tt.wantRej)
			}
			if tt.wantKind == "" && len(out.Accepted)+len(out.Rejected) != len(members) {
				t.Errorf("%d accepted + %d rejected, want %d", len(out.Accepted), len(out.Rejected), len(members))
			}
		})
	}
}

// TestMetaResendClosedSession: a request Meta already took (its session
// closed) reaching Meta again without an idempotent replay — re-sent by a
// later run after its answer was lost — goes through under a fresh session
// instead of being refused or split.
func TestMetaResendClosedSession(t *testing.T) {
	srv, err := fakeserver.New(fakeserver.Options{Token: conntest.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mt := newMeta(t, srv.BaseURL(fakeserver.Meta), conntest.DeliveryConfig())
	reqs, _, err := mt.Encode(delivery.Batch{Destination: "fb", Segment: "s", Date: "2024-03-01", Op: delivery.OpUpsert, Members: conntest.Members(5)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := delivery.Deliver(context.Background(), mt, reqs[0]); err != nil {
		t.Fatal(err)
	}
	again := reqs[0]
	again.Key += "-lost-answer" // Meta keeps no idempotency keys
	out, err := delivery.Deliver(context.Background(), mt, again)
	if err != nil || len(out.Accepted) != 5 || out.Requests != 1 {
		t.Fatalf("re-send: %v, accepted %d in %d calls", err, len(out.Accepted), out.Requests)
	}
}

// TestMetaPlanHoldsNoSecret: appsecret_proof (like the token) is added by
// Send, never written into a planned request.
func TestMetaPlanHoldsNoSecret(t *testing.T) {
	mt, err := NewMeta(MetaConfig{Name: "fb", BaseURL: "http://127.0.0.1:1", AudienceID: "a", Token: "tok", AppSecret: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	reqs, _, _ := mt.Encode(delivery.Batch{Destination: "fb", Segment: "s", Date: "2024-03-01", Op: delivery.OpUpsert, Members: conntest.Members(3)})
	proof := appSecretProof("tok", "sec")
	for _, r := range reqs {
		all := r.Path + string(r.Body) + strings.Join(r.Header.Values("Authorization"), "")
		if strings.Contains(all, proof) || strings.Contains(all, "appsecret_proof") || strings.Contains(all, "tok\"") {
			t.Errorf("planned request %s holds a secret", r.Key)
		}
	}
	// printf %s tok | openssl dgst -sha256 -hmac sec
	if proof != "b13512356d1403d2449aa2e7369214f0459f0d3c08cb742b0aff4fe57aae36f5" {
		t.Errorf("appsecret_proof %s", proof)
	}
}

// TestMetaNamesLettersOnly: Meta's FN/LN rule is a-z (UTF-8 letters)
// only, so digits go with punctuation.
func TestMetaNamesLettersOnly(t *testing.T) {
	tests := []struct{ in, want string }{{"Prénom7", "prénom"}, {"O'Neil 2nd", "oneilnd"}, {"Mary Ann", "maryann"}}
	for _, tt := range tests {
		if got, err := metaName(tt.in); err != nil || got != tt.want {
			t.Errorf("metaName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := metaName("1234"); err == nil {
		t.Error("a name of digits only must be left out")
	}
}

func keysOfRejections(rs []delivery.Rejection) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	slices.Sort(out)
	return out
}

// metaHashOf is the digest of a remote id ("em:<hash>"): the value the
// server sees in a row.
func metaHashOf(rid string) []string {
	_, d, ok := strings.Cut(rid, ":")
	if !ok {
		return nil
	}
	return []string{d}
}
