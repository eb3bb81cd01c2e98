package delivery

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Fri, 01 Mar 2024 12:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Friday, 01-Mar-24 12:01:00 GMT", time.Minute, true},     // RFC 850
		{"Fri Mar  1 12:00:05 2024", 5 * time.Second, true},       // asctime
		{"Fri, 01 Mar 2024 11:00:00 GMT", 0, true},                // past: go now
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		got, ok := RetryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffGrowsWithJitterWithinBounds(t *testing.T) {
	min, max := 100*time.Millisecond, 2*time.Second
	b := newBackoff(min, max, 42)
	// Retry n waits in [d/2, d] with d = min·2ⁿ capped at max.
	for attempt := range 10 {
		d := min << attempt
		if d > max {
			d = max
		}
		for range 50 {
			w := b.wait(attempt)
			if w < d/2 || w > d {
				t.Fatalf("retry %d waited %v, want within [%v, %v]", attempt, w, d/2, d)
			}
		}
	}
	// Large attempt numbers must not overflow into short or negative waits.
	if w := b.wait(200); w < max/2 || w > max {
		t.Fatalf("retry 200 waited %v", w)
	}
}

func TestBackoffSeeded(t *testing.T) {
	a, b, c := newBackoff(time.Millisecond, time.Second, 7), newBackoff(time.Millisecond, time.Second, 7), newBackoff(time.Millisecond, time.Second, 8)
	same, differs := true, false
	for i := range 8 {
		wa, wb, wc := a.wait(i), b.wait(i), c.wait(i)
		same = same && wa == wb
		differs = differs || wa != wc
	}
	if !same || !differs {
		t.Fatalf("same seed same waits: %v; other seed differs: %v", same, differs)
	}
}

func TestBackoffHonoursRetryAfterOn429And503Only(t *testing.T) {
	b := newBackoff(time.Millisecond, 10*time.Millisecond, 1)
	for _, tt := range []struct {
		status int
		want   time.Duration
	}{{429, 7 * time.Second}, {503, 7 * time.Second}, {500, 0}} {
		resp := &http.Response{StatusCode: tt.status, Header: http.Header{"Retry-After": {"7"}}}
		got := b.forResponse(0, resp)
		if tt.want > 0 && got != tt.want {
			t.Errorf("status %d: waited %v, want %v", tt.status, got, tt.want)
		}
		if tt.want == 0 && got > 10*time.Millisecond {
			t.Errorf("status %d: Retry-After honoured (%v) though only 429/503 should", tt.status, got)
		}
	}
}
