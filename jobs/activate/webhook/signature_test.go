package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/fakeserver"
)

// The Standard Webhooks libraries' test vector, checked with
// openssl dgst -sha256 -mac HMAC over "id.timestamp.body".
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vecHeader(sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, vecID)
	h.Set(HeaderTimestamp, strconv.Itoa(vecTS))
	h.Set(HeaderSignature, sig)
	return h
}

func TestSignSpecVector(t *testing.T) {
	key, err := Key(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(key, vecID, vecTS, []byte(vecBody)); got != vecSig {
		t.Fatalf("Sign = %s, want %s", got, vecSig)
	}
}

func TestVerify(t *testing.T) {
	at := time.Unix(vecTS, 0)
	noID := vecHeader(vecSig)
	noID.Del(HeaderID)
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"valid", vecSecret, vecHeader(vecSig), vecBody, at, nil},
		{"valid 4m59s later", vecSecret, vecHeader(vecSig), vecBody, at.Add(Tolerance - time.Second), nil},
		{"rotation: one of several matches", vecSecret, vecHeader("v1a,AAAA v1,Zm9v " + vecSig), vecBody, at, nil},
		{"replayed 5m01s later", vecSecret, vecHeader(vecSig), vecBody, at.Add(Tolerance + time.Second), ErrTimestamp},
		{"from the future", vecSecret, vecHeader(vecSig), vecBody, at.Add(-Tolerance - time.Second), ErrTimestamp},
		{"tampered body", vecSecret, vecHeader(vecSig), `{"test": 2432232315}`, at, ErrSignature},
		{"wrong secret", "whsec_" + strings.Repeat("A", 32), vecHeader(vecSig), vecBody, at, ErrSignature},
		{"other scheme only", vecSecret, vecHeader(strings.Replace(vecSig, "v1,", "v2,", 1)), vecBody, at, ErrSignature},
		{"missing id", vecSecret, noID, vecBody, at, ErrMissingHeader},
	}
	for _, tt := range tests {
		if err := Verify(tt.secret, tt.header, []byte(tt.body), tt.now); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
	// A raw (pre-whsec_) secret is its own key, on both sides.
	h := vecHeader(Sign([]byte("s3cret"), vecID, vecTS, []byte(vecBody)))
	if err := Verify("s3cret", h, []byte(vecBody), at); err != nil {
		t.Errorf("raw secret: %v", err)
	}
	// The timestamp is signed: moving it forward breaks the signature.
	h.Set(HeaderTimestamp, strconv.Itoa(vecTS+600))
	if err := Verify("s3cret", h, []byte(vecBody), at.Add(600*time.Second)); !errors.Is(err, ErrSignature) {
		t.Errorf("re-stamped request: %v, want ErrSignature", err)
	}
}

func TestKey(t *testing.T) {
	for _, bad := range []string{"", "whsec_not*base64", "whsec_" + "c2hvcnQ=" /* 5 bytes */} {
		_, err := Key(bad)
		if err == nil {
			t.Errorf("secret %q accepted", bad)
			continue
		}
		if rest := strings.TrimPrefix(bad, "whsec_"); rest != "" && strings.Contains(err.Error(), rest) {
			t.Errorf("error %q quotes the secret", err)
		}
	}
	if _, err := New(Config{Name: "h", URL: "http://x", Secret: "whsec_c2hvcnQ="}); err == nil {
		t.Error("New accepted a 5-byte whsec_ key")
	}
	if _, err := New(Config{Name: "h", URL: "http://x", Secret: "s", MaxRequestBytes: -1}); err == nil {
		t.Error("New accepted a negative byte cap")
	}
}

// clock is a settable time shared by the connector and the fake server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// recorder keeps every attempt's headers and body as they went out.
type recorder struct {
	mu    sync.Mutex
	sent  []*http.Request
	sentB [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	c := req.Clone(context.Background())
	r.sent = append(r.sent, c)
	r.sentB = append(r.sentB, body)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// signedSetup is a fake server and a connector on one settable clock.
func signedSetup(t *testing.T, secret string, opts fakeserver.Options, dc delivery.Config) (*fakeserver.Server, *Connector, *clock, *recorder) {
	t.Helper()
	clk := &clock{t: time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)}
	opts.WebhookSecret, opts.Now = secret, clk.now
	srv, err := fakeserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rec := &recorder{}
	dc.Transport = rec
	c, err := New(Config{Name: "hook", URL: srv.WebhookURL("hook"), Secret: secret, BatchSize: 100, Delivery: dc})
	if err != nil {
		t.Fatal(err)
	}
	c.now = clk.now
	return srv, c, clk, rec
}

func oneBatch(n int) delivery.Batch {
	b := delivery.Batch{Destination: "hook", Segment: "rfm:champions", Date: "2024-03-01", Number: 1, Op: delivery.OpUpsert}
	for i := range n {
		b.Members = append(b.Members, delivery.Member{Key: fmt.Sprintf("k%03d", i), Email: fmt.Sprintf("u%03d@example.com", i)})
	}
	return b
}

// rawPost sends body with exactly header, as an attacker replaying a
// captured request would.
func rawPost(t *testing.T, url string, header http.Header, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestPlanSentLaterIsSignedAtSendTime: a plan is written to a file at plan
// time and sent 10 minutes later. Signed then, it would be refused as a
// replay; signed by Send, it is accepted.
func TestPlanSentLaterIsSignedAtSendTime(t *testing.T) {
	for _, secret := range []string{"raw-secret", vecSecret} {
		srv, c, clk, rec := signedSetup(t, secret, fakeserver.Options{}, delivery.Config{MaxAttempts: 1})
		reqs, _, err := c.Encode(oneBatch(3))
		if err != nil {
			t.Fatal(err)
		}
		planned := clk.now()
		file, err := json.Marshal(reqs[0]) // what activate plan writes
		if err != nil {
			t.Fatal(err)
		}
		clk.add(10 * time.Minute)
		var r delivery.Request
		if err := json.Unmarshal(file, &r); err != nil {
			t.Fatal(err)
		}
		// Signed at plan time: refused.
		h := r.Header.Clone()
		h.Set(HeaderID, MessageID(r.Key))
		h.Set(HeaderTimestamp, strconv.FormatInt(planned.Unix(), 10))
		h.Set(HeaderSignature, Sign(c.key, MessageID(r.Key), planned.Unix(), r.Body))
		if status, body := rawPost(t, srv.WebhookURL("hook"), h, r.Body); status != http.StatusUnauthorized {
			t.Fatalf("%s: plan-time signature sent 10 min later: %d %s, want 401", secret, status, body)
		}
		// Signed by Send: accepted, stamped with the send time.
		res, err := c.Send(context.Background(), r)
		if err != nil || len(res.Accepted) != 3 {
			t.Fatalf("%s: send 10 min after plan: %+v %v", secret, res, err)
		}
		got := rec.sent[len(rec.sent)-1].Header
		if got.Get(HeaderTimestamp) != strconv.FormatInt(clk.now().Unix(), 10) || got.Get(HeaderID) != MessageID(r.Key) {
			t.Errorf("%s: sent headers %v", secret, got)
		}
		if err := Verify(secret, got, rec.sentB[len(rec.sentB)-1], clk.now()); err != nil {
			t.Errorf("%s: webhook.Verify refuses what Send sent: %v", secret, err)
		}
	}
}

// TestReplayRefused: a captured request replayed within the window is
// answered idempotently (applied once); replayed after 5 minutes, or
// re-stamped, it is refused.
func TestReplayRefused(t *testing.T) {
	srv, c, clk, rec := signedSetup(t, "s3cret", fakeserver.Options{}, delivery.Config{MaxAttempts: 1})
	reqs, _, _ := c.Encode(oneBatch(2))
	if _, err := c.Send(context.Background(), reqs[0]); err != nil {
		t.Fatal(err)
	}
	h, body := rec.sent[0].Header, rec.sentB[0]
	applied := srv.Stats().Applied
	clk.add(time.Minute)
	if status, _ := rawPost(t, srv.WebhookURL("hook"), h, body); status != http.StatusOK || srv.Stats().Applied != applied || srv.Stats().Replayed != 1 {
		t.Fatalf("replay within the window: %d, stats %+v; want 200 from the store, nothing applied", status, srv.Stats())
	}
	clk.add(5 * time.Minute)
	if status, _ := rawPost(t, srv.WebhookURL("hook"), h, body); status != http.StatusUnauthorized {
		t.Fatalf("replay 6 min later: %d, want 401", status)
	}
	re := h.Clone()
	re.Set(HeaderTimestamp, strconv.FormatInt(clk.now().Unix(), 10))
	if status, _ := rawPost(t, srv.WebhookURL("hook"), re, body); status != http.StatusUnauthorized {
		t.Fatalf("re-stamped replay: %d, want 401", status)
	}
	missing := h.Clone()
	missing.Del(HeaderSignature)
	if status, _ := rawPost(t, srv.WebhookURL("hook"), missing, body); status != http.StatusUnauthorized {
		t.Fatalf("no signature: %d, want 401", status)
	}
}

// TestEachAttemptSigned: a retry goes out with its own timestamp and
// signature under the same webhook-id, so retries spread over more than
// 5 minutes still pass.
func TestEachAttemptSigned(t *testing.T) {
	srv, c, clk, rec := signedSetup(t, "s3cret", fakeserver.Options{}, delivery.Config{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	srv.SetFaults(fakeserver.Faults{Script: []fakeserver.Fault{fakeserver.InternalError, fakeserver.InternalError}})
	reqs, _, _ := c.Encode(oneBatch(2))
	stepping := c.now
	c.now = func() time.Time { clk.add(4 * time.Minute); return stepping() }
	res, err := c.Send(context.Background(), reqs[0])
	if err != nil || res.Attempts != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	seen := map[string]bool{}
	for i, r := range rec.sent {
		if r.Header.Get(HeaderID) != MessageID(reqs[0].Key) {
			t.Errorf("attempt %d id %s", i, r.Header.Get(HeaderID))
		}
		seen[r.Header.Get(HeaderTimestamp)] = true
	}
	if len(seen) != 3 {
		t.Fatalf("3 attempts carried %d distinct timestamps", len(seen))
	}
}

// TestByteCap: parts stay under MaxRequestBytes (the server refuses larger
// bodies with 413), every member is sent once, in order, and a member too
// large for any request is skipped at plan time with a reason that does
// not quote its data.
func TestByteCap(t *testing.T) {
	const limit = 2000
	srv, c, _, _ := signedSetup(t, "s3cret", fakeserver.Options{WebhookMaxBytes: limit}, delivery.Config{MaxAttempts: 1})
	c.cfg.MaxRequestBytes = limit
	b := oneBatch(60)
	huge := strings.Repeat("x", limit)
	b.Members[17].Attributes = map[string]string{"note": huge}
	reqs, skipped, err := c.Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Key != "k017" || !strings.Contains(skipped[0].Reason, "max_request_bytes") || strings.Contains(skipped[0].Reason, "xxxx") {
		t.Fatalf("skipped %+v, want k017 with a reason naming the cap", skipped)
	}
	if len(reqs) < 2 {
		t.Fatalf("%d requests, want the batch cut by bytes", len(reqs))
	}
	var order []string
	for i, r := range reqs {
		if len(r.Body) > limit {
			t.Errorf("request %d is %d bytes, over %d", i, len(r.Body), limit)
		}
		var p payload
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		for j, m := range p.Members {
			if m.Key != r.Members[j] {
				t.Fatalf("request %d member %d: body %s, Members %s", i, j, m.Key, r.Members[j])
			}
		}
		order = append(order, r.Members...)
		if want := fmt.Sprintf("hook/rfm:champions/2024-03-01/upsert/1/p%d", i+1); r.Key != want {
			t.Errorf("request %d key %s, want %s", i, r.Key, want)
		}
		if _, err := c.Send(context.Background(), r); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	want := oneBatch(60)
	want.Members = append(want.Members[:17], want.Members[18:]...)
	for i, m := range want.Members {
		if i >= len(order) || order[i] != m.Key {
			t.Fatalf("members sent %v, want every member but k017 once, in order", order)
		}
	}
	if n := len(srv.Audience(fakeserver.Webhook, "hook/rfm:champions")); n != 59 {
		t.Fatalf("server holds %d members, want 59", n)
	}
	// Same batch, same bytes, with the cap too.
	again, _, _ := c.Encode(b)
	for i := range reqs {
		if !bytes.Equal(reqs[i].Body, again[i].Body) {
			t.Fatalf("request %d differs between two encodings", i)
		}
	}
}
