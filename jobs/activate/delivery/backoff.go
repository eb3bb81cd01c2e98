package delivery

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RetryAfter reads a Retry-After header, in delay-seconds or HTTP-date form
// (RFC 9110 §10.2.3), as a wait from now. A date in the past means no wait.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// backoff is exponential backoff with "equal jitter": the wait before retry
// n is half of min·2ⁿ (capped at max) plus a random share of the other
// half, so waits still grow while clients that failed together spread out.
// The random source is seeded: the same seed gives the same waits.
type backoff struct {
	min, max time.Duration
	mu       sync.Mutex
	rng      *rand.Rand
}

func newBackoff(min, max time.Duration, seed uint64) *backoff {
	return &backoff{min: min, max: max, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// wait is the pause before retry number attempt (from 0).
func (b *backoff) wait(attempt int) time.Duration {
	d := b.max
	if attempt < 62 {
		if e := b.min << uint(attempt); e > 0 && e < b.max && e>>uint(attempt) == b.min {
			d = e
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	b.mu.Lock()
	j := time.Duration(b.rng.Int64N(int64(half) + 1))
	b.mu.Unlock()
	return d - half + j
}

// forResponse honours Retry-After on 429 and 503 and otherwise backs off.
func (b *backoff) forResponse(attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := RetryAfter(resp.Header, time.Now()); ok {
			return d
		}
	}
	return b.wait(attempt)
}
