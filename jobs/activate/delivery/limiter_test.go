package delivery

import (
	"context"
	"testing"
	"time"
)

func TestLimiterReserve(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(10, 2) // one token per 100 ms, two saved up
	tests := []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 0},                      // burst token 1
		{0, 0},                      // burst token 2
		{0, 100 * time.Millisecond}, // queue: next token in 100 ms
		{0, 200 * time.Millisecond}, // and the one after
		{250 * time.Millisecond, 50 * time.Millisecond}, // 2.5 tokens refilled, 3 owed
		{time.Second, 0}, // long pause: bucket refilled to its burst
		{time.Second, 0},
		{time.Second, 100 * time.Millisecond},
	}
	for i, tt := range tests {
		got := l.reserve(t0.Add(tt.at))
		if d := got - tt.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("reservation %d at +%v: wait %v, want %v", i, tt.at, got, tt.want)
		}
	}
}

func TestLimiterNilAndCancel(t *testing.T) {
	if NewLimiter(0, 5) != nil {
		t.Fatal("rate 0 should mean no limiter")
	}
	var none *Limiter
	if err := none.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := NewLimiter(1, 1)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("Wait with a cancelled context returned nil")
	}
	// The cancelled waiter gave its token back: the next one waits about
	// one interval, not two.
	if d := l.reserve(time.Now()); d > 1100*time.Millisecond {
		t.Fatalf("after a cancelled wait the next waits %v, want <= 1s", d)
	}
}

// TestLimiterPaces is a behaviour check: 11 waits at 50/s with burst 1 take
// at least the 10 intervals the bucket must refill.
func TestLimiterPaces(t *testing.T) {
	l := NewLimiter(50, 1)
	start := time.Now()
	for range 11 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 195*time.Millisecond {
		t.Fatalf("11 requests at 50/s took %v, want >= 200ms", took)
	}
}
