package fakeserver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

const secret = "s"

func post(t *testing.T, url, key, body string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	// Standard Webhooks signature, stamped now (webhook.go).
	id, ts := "msg_"+key, strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + "." + ts + "." + body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Authorization", "Bearer tok")
	// A fresh transport per call: no hidden retry on a reused connection.
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b, nil
}

func start(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Token: "tok", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const upsert = `{"destination":"d","segment":"s","date":"2024-03-01","op":"upsert","batch":1,"members":[{"key":"a","email":"a@x.com"},{"key":"b"}]}`

func TestIdempotentReplay(t *testing.T) {
	s := start(t)
	resp1, body1, err := post(t, s.WebhookURL("d"), "k1", upsert)
	if err != nil || resp1.StatusCode != 200 {
		t.Fatal(resp1, err)
	}
	resp2, body2, err := post(t, s.WebhookURL("d"), "k1", upsert)
	if err != nil || resp2.StatusCode != 200 || !bytes.Equal(body1, body2) {
		t.Fatalf("replay: %v %s, want the stored answer %s", err, body2, body1)
	}
	if n := s.Applications(Webhook, "d/s", "a"); n != 1 {
		t.Fatalf("member applied %d times, want 1", n)
	}
	st := s.Stats()
	if st.Applied != 1 || st.Replayed != 1 || st.Requests != 2 {
		t.Fatalf("stats %+v", st)
	}
	// The same key with another body is refused, not applied.
	resp3, _, _ := post(t, s.WebhookURL("d"), "k1", strings.Replace(upsert, `"b"`, `"c"`, 1))
	if resp3.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reused key: status %d, want 422", resp3.StatusCode)
	}
	// Another key applies again.
	post(t, s.WebhookURL("d"), "k2", upsert)
	if n := s.Applications(Webhook, "d/s", "a"); n != 2 {
		t.Fatalf("member applied %d times after a new key, want 2", n)
	}
	if got := s.Audience(Webhook, "d/s"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("audience %v", got)
	}
}

func TestFaultScript(t *testing.T) {
	s := start(t)
	s.SetFaults(Faults{Script: []Fault{TooManyRequests, InternalError, Unavailable, Drop, DropAfterApply}, RetryAfter: "7"})
	wantStatus := []int{429, 500, 503}
	for i, want := range wantStatus {
		resp, _, err := post(t, s.WebhookURL("d"), "k", upsert)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("request %d: %v %v, want %d", i, resp, err, want)
		}
		if want != 500 && resp.Header.Get("Retry-After") != "7" {
			t.Errorf("request %d: Retry-After %q", i, resp.Header.Get("Retry-After"))
		}
	}
	if len(s.Audience(Webhook, "d/s")) != 0 {
		t.Fatal("failed requests applied something")
	}
	if _, _, err := post(t, s.WebhookURL("d"), "k", upsert); err == nil {
		t.Fatal("drop: got an answer")
	}
	if len(s.Audience(Webhook, "d/s")) != 0 {
		t.Fatal("dropped request applied")
	}
	if _, _, err := post(t, s.WebhookURL("d"), "k", upsert); err == nil {
		t.Fatal("drop after apply: got an answer")
	}
	if got := s.Audience(Webhook, "d/s"); len(got) != 2 {
		t.Fatalf("drop after apply: audience %v, want applied", got)
	}
	resp, _, err := post(t, s.WebhookURL("d"), "k", upsert)
	if err != nil || resp.StatusCode != 200 || s.Applications(Webhook, "d/s", "a") != 1 || s.Stats().Replayed != 1 {
		t.Fatalf("retry after the drop: %v %v, applications %d", resp, err, s.Applications(Webhook, "d/s", "a"))
	}
	st := s.Stats()
	for _, f := range []Fault{TooManyRequests, InternalError, Unavailable, Drop, DropAfterApply} {
		if st.Faults[f] != 1 {
			t.Errorf("fault %s counted %d times", f, st.Faults[f])
		}
	}
}

func TestTimeoutStallsPastTheClient(t *testing.T) {
	s := start(t)
	s.SetFaults(Faults{Script: []Fault{Timeout}, Delay: 5 * time.Second})
	req, _ := http.NewRequest(http.MethodPost, s.WebhookURL("d"), strings.NewReader(upsert))
	cl := &http.Client{Timeout: 200 * time.Millisecond}
	begin := time.Now()
	_, err := cl.Do(req)
	if err == nil || time.Since(begin) > 2*time.Second {
		t.Fatalf("err %v after %v, want a client timeout", err, time.Since(begin))
	}
	var ue interface{ Timeout() bool }
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatalf("err %v is not a timeout", err)
	}
	if len(s.Audience(Webhook, "d/s")) != 0 {
		t.Fatal("stalled request applied")
	}
}

func TestRandomFaultsAreSeeded(t *testing.T) {
	draw := func(seed uint64) []Fault {
		s := start(t)
		s.SetFaults(Faults{Rate: 0.5, Seed: seed})
		out := make([]Fault, 40)
		for i := range out {
			out[i] = s.nextFault()
		}
		return out
	}
	a, b, c := draw(3), draw(3), draw(4)
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Fatal("same seed must give the same faults, another seed others")
	}
	n := 0
	for _, f := range a {
		if f != NoFault {
			n++
		}
	}
	if n < 10 || n > 30 {
		t.Fatalf("%d faults in 40 draws at rate 0.5", n)
	}
}

func TestAuth(t *testing.T) {
	s := start(t)
	req, _ := http.NewRequest(http.MethodPost, s.WebhookURL("d"), strings.NewReader(upsert))
	req.Header.Set("X-Parcours-Signature", "sha256=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad signature: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodPost, s.BaseURL(Meta)+"/v21.0/a/users", strings.NewReader(`{}`))
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v %v", resp, err)
	}
	resp.Body.Close()
	if s.Stats().Unauthorized != 2 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

func TestWholeRejectModes(t *testing.T) {
	body := strings.Replace(upsert, `"b"`, `"reject-me"`, 1)
	tests := []struct {
		mode       RejectMode
		status     int
		namesBad   bool
		wantInList []string
	}{
		{PerRecord, 200, true, []string{"a"}},
		{WholeNamed, 400, true, nil},
		{WholeUnnamed, 400, false, nil},
	}
	for _, tt := range tests {
		s := start(t)
		s.SetFaults(Faults{RejectSubstring: "reject", RejectMode: tt.mode})
		resp, b, err := post(t, s.WebhookURL("d"), "k", body)
		if err != nil || resp.StatusCode != tt.status {
			t.Fatalf("mode %q: %v %v", tt.mode, resp, err)
		}
		var a struct {
			Rejected []struct{ Key string } `json:"rejected"`
		}
		json.Unmarshal(b, &a)
		if named := len(a.Rejected) == 1 && a.Rejected[0].Key == "reject-me"; named != tt.namesBad {
			t.Errorf("mode %q: answer %s names the bad record: %v", tt.mode, b, named)
		}
		if got := s.Audience(Webhook, "d/s"); !reflect.DeepEqual(got, tt.wantInList) {
			t.Errorf("mode %q: audience %v, want %v", tt.mode, got, tt.wantInList)
		}
	}
}

func TestCloseEndsStalls(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetFaults(Faults{Script: []Fault{Timeout}, Delay: time.Minute})
	done := make(chan struct{})
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.WebhookURL("d"), strings.NewReader(upsert))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		close(done)
	}()
	time.Sleep(100 * time.Millisecond)
	s.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a stalled request outlived Close")
	}
}
