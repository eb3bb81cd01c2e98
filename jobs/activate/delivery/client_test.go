package delivery

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// scripted answers each request with the next status of a script (then
// 200), recording what it received.
type scripted struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	keys     []string
	bodies   []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	s.bodies = append(s.bodies, string(body))
	status := http.StatusOK
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	for k, v := range s.header {
		w.Header()[k] = v
	}
	s.mu.Unlock()
	w.WriteHeader(status)
	w.Write([]byte(`{"status":` + http.StatusText(status) + `}`))
}

func fastConfig() Config {
	return Config{Destination: "t", Timeout: time.Second, MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func TestClientRetriesByStatus(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		wantStatus   int
		wantAttempts int
	}{
		{"ok", nil, 200, 1},
		{"408 retried", []int{408}, 200, 2},
		{"429 retried", []int{429, 429}, 200, 3},
		{"500 502 503 504 retried until the cap", []int{500, 502, 503, 504, 500}, 504, 4},
		{"501 final", []int{501}, 501, 1},
		{"400 final", []int{400}, 400, 1},
		{"401 final", []int{401}, 401, 1},
		{"404 final", []int{404}, 404, 1},
		{"409 final", []int{409}, 409, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &scripted{statuses: tt.statuses}
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := NewClient(fastConfig())
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(context.Background(), Call{Method: "POST", URL: srv.URL, Body: []byte("payload"), IdempotencyKey: "d/s/2024-03-01/upsert/1"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus || resp.Attempts != tt.wantAttempts || resp.Retries != tt.wantAttempts-1 {
				t.Errorf("status %d attempts %d retries %d, want %d, %d, %d", resp.Status, resp.Attempts, resp.Retries, tt.wantStatus, tt.wantAttempts, tt.wantAttempts-1)
			}
			// Every attempt carries the key and the whole body.
			for i := range h.keys {
				if h.keys[i] != "d/s/2024-03-01/upsert/1" || h.bodies[i] != "payload" {
					t.Errorf("attempt %d: key %q body %q", i+1, h.keys[i], h.bodies[i])
				}
			}
		})
	}
}

func TestClientGivesUpOnLongRetryAfter(t *testing.T) {
	h := &scripted{statuses: []int{503}, header: http.Header{"Retry-After": {"3600"}}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cfg := fastConfig()
	cfg.MaxRetryAfter = 2 * time.Second
	c, _ := NewClient(cfg)
	start := time.Now()
	resp, err := c.Do(context.Background(), Call{Method: "POST", URL: srv.URL, IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 1 || time.Since(start) > time.Second {
		t.Fatalf("attempts %d after %v: a one-hour Retry-After should end the run's attempts at once", resp.Attempts, time.Since(start))
	}
	e := StatusError("send", resp)
	if e.Kind != Temporary || e.RetryAfter != time.Hour {
		t.Fatalf("error %+v, want temporary with RetryAfter 1h", e)
	}
}

func TestClientConnectionErrorsAreTemporary(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, _ := NewClient(fastConfig())
	resp, err := c.Do(context.Background(), Call{Method: "POST", URL: url, IdempotencyKey: "k"})
	if KindOf(err) != Temporary || resp.Attempts != 4 {
		t.Fatalf("kind %q attempts %d (%v), want temporary after 4 attempts", KindOf(err), resp.Attempts, err)
	}
}

func TestClientRefusesWithoutKeyOrWithBadURL(t *testing.T) {
	c, _ := NewClient(fastConfig())
	if _, err := c.Do(context.Background(), Call{Method: "POST", URL: "http://127.0.0.1:1"}); KindOf(err) != Permanent {
		t.Errorf("no idempotency key: %v, want permanent", err)
	}
	if _, err := c.Do(context.Background(), Call{Method: "POST", URL: "ftp://example.com/x", IdempotencyKey: "k"}); KindOf(err) != Permanent {
		t.Errorf("unsupported scheme: %v, want permanent", err)
	}
}

func TestClientCancelled(t *testing.T) {
	h := &scripted{statuses: []int{500, 500, 500}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cfg := fastConfig()
	cfg.MinBackoff, cfg.MaxBackoff = time.Second, time.Second
	c, _ := NewClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, Call{Method: "POST", URL: srv.URL, IdempotencyKey: "k"})
	if KindOf(err) != Temporary {
		t.Fatalf("cancelled run: %v, want temporary (re-sent next run)", err)
	}
}

func TestClientRateLimitsAttempts(t *testing.T) {
	h := &scripted{statuses: []int{500, 500}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cfg := fastConfig()
	cfg.RatePerSecond, cfg.Burst = 20, 1
	c, _ := NewClient(cfg)
	start := time.Now()
	for range 2 {
		if _, err := c.Do(context.Background(), Call{Method: "POST", URL: srv.URL, IdempotencyKey: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	// 4 attempts (two retries included) at 20/s: at least 3 intervals of 50 ms.
	if took := time.Since(start); took < 145*time.Millisecond {
		t.Fatalf("4 attempts at 20/s took %v, want >= 150ms", took)
	}
}

func TestClientLogsThroughZerolog(t *testing.T) {
	h := &scripted{statuses: []int{500}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var buf bytes.Buffer
	cfg := fastConfig()
	cfg.Logger = zerolog.New(&buf).Level(zerolog.DebugLevel)
	c, _ := NewClient(cfg)
	if _, err := c.Do(context.Background(), Call{Method: "POST", URL: srv.URL, IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"message":"retrying request"`, `"attempt":2`, `"key":"k1"`, `"status":200`, `"destination":"t"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestStatusKind(t *testing.T) {
	for status, want := range map[int]Kind{200: Permanent, 400: Permanent, 401: Permanent, 403: Permanent, 404: Permanent,
		408: Temporary, 409: Permanent, 422: Permanent, 429: Temporary, 500: Temporary, 501: Permanent, 502: Temporary, 503: Temporary, 504: Temporary} {
		if got := StatusKind(status); got != want {
			t.Errorf("StatusKind(%d) = %s, want %s", status, got, want)
		}
	}
}
