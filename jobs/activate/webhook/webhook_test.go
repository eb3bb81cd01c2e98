package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
	"github.com/parcours/parcours/jobs/activate/internal/conntest"
)

func target() conntest.Target {
	return conntest.Target{
		Platform: fakeserver.Webhook,
		Audience: conntest.Destination + "/" + conntest.Segment,
		New: func(srv *fakeserver.Server, dc delivery.Config) (delivery.Connector, error) {
			return New(Config{Name: conntest.Destination, URL: srv.WebhookURL(conntest.Destination), Secret: conntest.Secret, BatchSize: 4, Delivery: dc})
		},
	}
}

func TestScenarios(t *testing.T) { conntest.Run(t, target()) }

func TestSign(t *testing.T) {
	// Computed outside the code under test:
	//   printf '%s' 'msg_1.1700000000.what do ya want for nothing?' |
	//     openssl dgst -sha256 -hmac Jefe -binary | base64
	got := Sign([]byte("Jefe"), "msg_1", 1700000000, []byte("what do ya want for nothing?"))
	want := "v1,GbBzxpdI9TiUTgayH/Hyn8G1QOZhR7Pm549s7y0QnmQ="
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func newConn(t *testing.T, url string, dc delivery.Config) *Connector {
	t.Helper()
	c, err := New(Config{Name: "hook", URL: url, Secret: "s3cret", BatchSize: 2, Delivery: dc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEncode(t *testing.T) {
	c := newConn(t, "http://127.0.0.1:1/hook", delivery.Config{})
	b := delivery.Batch{Destination: "hook", Segment: "rfm:champions", Date: "2024-03-01", Number: 7, Op: delivery.OpUpsert,
		Members: []delivery.Member{
			{Key: "k1", Email: "a@example.com", FirstName: "Zoë", Attributes: map[string]string{"z": "1", "a": "<2>"}},
			{Key: "k2", Phone: "+33612345678"},
			{Key: "k3", Email: "c@example.com"},
		}}
	reqs, skipped, err := c.Encode(b)
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	again, _, _ := c.Encode(b)
	if !reflect.DeepEqual(reqs, again) {
		t.Fatal("Encode is not deterministic")
	}
	if len(reqs) != 2 {
		t.Fatalf("%d requests for 3 members at batch size 2, want 2", len(reqs))
	}
	tests := []struct {
		i       int
		key     string
		members []string
		body    string
	}{
		{0, "hook/rfm:champions/2024-03-01/upsert/7/p1", []string{"k1", "k2"},
			`{"destination":"hook","segment":"rfm:champions","date":"2024-03-01","op":"upsert","batch":7,"members":[{"key":"k1","email":"a@example.com","first_name":"Zoë","attributes":{"a":"<2>","z":"1"}},{"key":"k2","phone":"+33612345678"}]}`},
		{1, "hook/rfm:champions/2024-03-01/upsert/7/p2", []string{"k3"},
			`{"destination":"hook","segment":"rfm:champions","date":"2024-03-01","op":"upsert","batch":7,"members":[{"key":"k3","email":"c@example.com"}]}`},
	}
	for _, tt := range tests {
		r := reqs[tt.i]
		if r.Key != tt.key || !reflect.DeepEqual(r.Members, tt.members) || string(r.Body) != tt.body {
			t.Errorf("request %d = key %s members %v body\n%s\nwant key %s members %v body\n%s", tt.i, r.Key, r.Members, r.Body, tt.key, tt.members, tt.body)
		}
		// Nothing time-dependent or secret in a plan: Send signs.
		for _, h := range []string{HeaderSignature, HeaderTimestamp, legacySignatureHeader} {
			if r.Header.Get(h) != "" {
				t.Errorf("request %d carries %s at plan time", tt.i, h)
			}
		}
	}
	// Removals carry the key and email only.
	b.Op = delivery.OpRemove
	reqs, _, _ = c.Encode(b)
	var p payload
	if err := json.Unmarshal(reqs[0].Body, &p); err != nil {
		t.Fatal(err)
	}
	if want := (member{Key: "k1", Email: "a@example.com"}); !reflect.DeepEqual(p.Members[0], want) {
		t.Errorf("removal member %+v, want %+v", p.Members[0], want)
	}
	// A bad batch is refused before anything is encoded.
	b.Members = append(b.Members, delivery.Member{Key: "k1"})
	if _, _, err := c.Encode(b); err == nil {
		t.Error("duplicate member key accepted")
	}
}

func TestSubset(t *testing.T) {
	c := newConn(t, "http://127.0.0.1:1/hook", delivery.Config{})
	c.cfg.BatchSize = 10
	b := delivery.Batch{Destination: "hook", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert,
		Members: []delivery.Member{{Key: "a"}, {Key: "b"}, {Key: "c"}}}
	reqs, _, _ := c.Encode(b)
	sub, err := c.Subset(reqs[0], []string{"c", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sub.Members, []string{"a", "c"}) || sub.Key == reqs[0].Key {
		t.Fatalf("subset members %v key %s", sub.Members, sub.Key)
	}
	if bytes.Contains(sub.Body, []byte(`"b"`)) {
		t.Fatalf("subset body still holds b: %s", sub.Body)
	}
	if _, err := c.Subset(reqs[0], []string{"zz"}); err == nil {
		t.Fatal("subset with a foreign key accepted")
	}
}

// TestRetryAfter checks the client waits what the server asks on 429 and
// 503, in both Retry-After forms.
func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		fault      fakeserver.Fault
		retryAfter func() string
		atLeast    time.Duration
	}{
		{"429 seconds", fakeserver.TooManyRequests, func() string { return "1" }, time.Second},
		{"503 seconds", fakeserver.Unavailable, func() string { return "1" }, time.Second},
		// An HTTP-date has whole seconds: now+2s truncated is at least 1 s away.
		{"429 http-date", fakeserver.TooManyRequests, func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := fakeserver.New(fakeserver.Options{WebhookSecret: "s3cret"})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			srv.SetFaults(fakeserver.Faults{Script: []fakeserver.Fault{tt.fault}, RetryAfter: tt.retryAfter()})
			c := newConn(t, srv.WebhookURL("hook"), delivery.Config{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 3})
			reqs, _, _ := c.Encode(delivery.Batch{Destination: "hook", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert,
				Members: []delivery.Member{{Key: "a"}}})
			start := time.Now()
			res, err := c.Send(context.Background(), reqs[0])
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if res.Attempts != 2 || res.Retries != 1 {
				t.Errorf("attempts %d retries %d, want 2 and 1", res.Attempts, res.Retries)
			}
			if took < tt.atLeast {
				t.Errorf("retried after %v, want at least %v", took, tt.atLeast)
			}
		})
	}
}

// TestBadSignatureIsPermanent: a receiver refusing the signature is a
// configuration problem, not something to retry.
func TestBadSignatureIsPermanent(t *testing.T) {
	srv, err := fakeserver.New(fakeserver.Options{WebhookSecret: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := newConn(t, srv.WebhookURL("hook"), delivery.Config{MaxAttempts: 3})
	reqs, _, _ := c.Encode(delivery.Batch{Destination: "hook", Segment: "s", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert,
		Members: []delivery.Member{{Key: "a"}}})
	res, err := c.Send(context.Background(), reqs[0])
	if delivery.KindOf(err) != delivery.Permanent || res.Status != http.StatusUnauthorized || res.Attempts != 1 {
		t.Fatalf("kind %q status %d attempts %d, want permanent 401 after 1 attempt (%v)", delivery.KindOf(err), res.Status, res.Attempts, err)
	}
}
