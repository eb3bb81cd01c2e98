package delivery

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket: rate tokens per second, at most burst saved
// up. Every HTTP attempt (retries too) takes one token, so a destination's
// published request rate holds even while retrying. It stands in for
// golang.org/x/time/rate, which is not a dependency of this module.
type Limiter struct {
	rate  float64
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter allowing rate requests per second with the
// given burst (at least 1); rate <= 0 means no limit (nil limiter).
func NewLimiter(rate float64, burst int) *Limiter {
	if rate <= 0 || math.IsInf(rate, 1) || math.IsNaN(rate) {
		return nil
	}
	b := float64(max(burst, 1))
	return &Limiter{rate: rate, burst: b, tokens: b}
}

// reserve takes a token at now and returns how long the caller must wait
// before using it. Tokens may go negative: waiters queue up in order.
func (l *Limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens = math.Min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	if now.After(l.last) {
		l.last = now
	}
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}

// cancel gives back a token reserved by a caller that stopped waiting.
func (l *Limiter) cancel() {
	l.mu.Lock()
	l.tokens = math.Min(l.burst, l.tokens+1)
	l.mu.Unlock()
}

// Wait blocks until a token is available or ctx ends. A nil limiter never
// waits.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	d := l.reserve(time.Now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.cancel()
		return ctx.Err()
	}
}
