package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/rs/zerolog"
)

// Defaults for Config fields left at zero.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxAttempts   = 5
	DefaultMinBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	// maxResponseBody bounds what is read of a response: platform replies
	// are small JSON documents; anything larger is a misbehaving server.
	maxResponseBody = 32 << 20
)

// Config tunes how one destination is called.
type Config struct {
	// Destination names the destination in logs.
	Destination string
	// Timeout bounds each attempt (connection, request and response).
	Timeout time.Duration
	// MaxAttempts is the most attempts per request, the first included.
	MaxAttempts int
	// RatePerSecond caps attempts per second (0: no cap); Burst is how
	// many may go at once after a pause (default 1).
	RatePerSecond float64
	Burst         int
	// MinBackoff and MaxBackoff bound the exponential backoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After waited for within a run; a
	// destination asking for longer gets the request back as a temporary
	// failure (retried by the next run) instead of a stalled run.
	MaxRetryAfter time.Duration
	// Seed makes the backoff jitter reproducible.
	Seed uint64
	// Logger receives request logs (debug) and retries (warn at give-up).
	Logger zerolog.Logger
	// Transport, when set, replaces the pooled default transport (tests).
	Transport http.RoundTripper
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	if c.RatePerSecond < 0 || c.Burst < 0 || c.Timeout < 0 || c.MaxAttempts < 0 {
		return fmt.Errorf("delivery config %s: rate, burst, timeout and max attempts must not be negative", c.Destination)
	}
	return nil
}

// Client sends HTTP calls for one destination through go-retryablehttp:
// retries on connection errors, 408, 429 and 5xx (not 501) with
// exponential backoff and jitter, Retry-After honoured on 429 and 503, a
// timeout per attempt, a token-bucket rate limit over all attempts, and an
// Idempotency-Key header on every call. One Client is reused for all of a
// destination's requests (one connection pool).
type Client struct {
	cfg     Config
	rc      *retryablehttp.Client
	limiter *Limiter
	backoff *backoff
}

// NewClient builds the client for one destination.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	tr := cfg.Transport
	if tr == nil {
		tr = cleanhttp.DefaultPooledTransport()
	}
	c := &Client{
		cfg:     cfg,
		limiter: NewLimiter(cfg.RatePerSecond, cfg.Burst),
		backoff: newBackoff(cfg.MinBackoff, cfg.MaxBackoff, cfg.Seed),
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: tr, Timeout: cfg.Timeout},
		Logger:       nil, // the library's default logger writes to stderr; we log through zerolog
		RetryWaitMin: cfg.MinBackoff,
		RetryWaitMax: cfg.MaxBackoff,
		RetryMax:     cfg.MaxAttempts - 1,
		CheckRetry:   c.checkRetry,
		Backoff: func(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
			return c.backoff.forResponse(attempt, resp)
		},
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, attempt int) {
			if n, ok := r.Context().Value(attemptsKey{}).(*atomic.Int64); ok {
				n.Store(int64(attempt + 1))
			}
			if prep, ok := r.Context().Value(prepareKey{}).(func(http.Header)); ok {
				// retryablehttp copies the request shallowly between
				// attempts: a fresh map keeps an earlier attempt's
				// transport from reading headers being rewritten.
				r.Header = r.Header.Clone()
				prep(r.Header)
			}
			if attempt > 0 {
				c.cfg.Logger.Debug().Str("destination", c.cfg.Destination).Str("method", r.Method).
					Str("path", r.URL.Path).Int("attempt", attempt+1).Msg("retrying request")
			}
		},
		// Every attempt, the retries too, takes a rate-limit token.
		PrepareRetry: func(r *http.Request) error { return c.limiter.Wait(r.Context()) },
		// Hand the last response back instead of a bare "giving up" error,
		// so the caller sees the status, body and Retry-After.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
}

// Config returns the settings in force (defaults filled in).
func (c *Client) Config() Config { return c.cfg }

type attemptsKey struct{}

type prepareKey struct{}

// checkRetry retries connection errors (not bad URLs or TLS failures, as
// retryablehttp decides), 408, 429 and 5xx but 501, unless the destination
// asks to wait longer than MaxRetryAfter.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if StatusKind(resp.StatusCode) != Temporary {
		return false, nil
	}
	if d, ok := RetryAfter(resp.Header, time.Now()); ok && d > c.cfg.MaxRetryAfter {
		return false, nil
	}
	return true, nil
}

// Call is one HTTP exchange.
type Call struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// IdempotencyKey is sent as the Idempotency-Key header; required.
	IdempotencyKey string
	// Prepare, when set, edits each attempt's headers just before it goes
	// out (a webhook signature carries the attempt's own timestamp).
	Prepare func(h http.Header)
}

// Response is a completed exchange, whatever its status.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Attempts int
	Retries  int
}

// Do performs call with retries. A response with any status comes back
// with a nil error (the connector reads its body); a call that got no
// response after every attempt returns a Temporary *Error (Permanent for a
// malformed request) with the attempt counts in the Response.
func (c *Client) Do(ctx context.Context, call Call) (*Response, error) {
	op := fmt.Sprintf("%s %s %s", c.cfg.Destination, call.Method, call.IdempotencyKey)
	if call.IdempotencyKey == "" {
		return &Response{}, &Error{Kind: Permanent, Op: op, Err: errors.New("no idempotency key")}
	}
	var attempts atomic.Int64
	ctx = context.WithValue(ctx, attemptsKey{}, &attempts)
	if call.Prepare != nil {
		ctx = context.WithValue(ctx, prepareKey{}, call.Prepare)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, call.Method, call.URL, call.Body)
	if err != nil {
		return &Response{}, &Error{Kind: Permanent, Op: op, Err: err}
	}
	for k, vs := range call.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Idempotency-Key", call.IdempotencyKey)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "parcours-activate")
	}
	start := time.Now()
	if err := c.limiter.Wait(ctx); err != nil {
		return &Response{}, &Error{Kind: Temporary, Op: op, Err: err}
	}
	resp, err := c.rc.Do(req)
	out := &Response{Attempts: int(attempts.Load())}
	out.Retries = max(out.Attempts-1, 0)
	log := c.cfg.Logger.With().Str("destination", c.cfg.Destination).Str("key", call.IdempotencyKey).
		Int("attempts", out.Attempts).Dur("took", time.Since(start)).Logger()
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		log.Warn().Err(err).Msg("request failed")
		return out, &Error{Kind: transportKind(err), Op: op, Err: err}
	}
	defer resp.Body.Close()
	out.Status = resp.StatusCode
	out.Header = resp.Header
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(resp.Body, maxResponseBody)); err != nil {
		log.Warn().Err(err).Int("status", resp.StatusCode).Msg("reading response")
		return out, &Error{Kind: Temporary, Op: op, Status: resp.StatusCode, Err: fmt.Errorf("read response: %w", err)}
	}
	out.Body = buf.Bytes()
	ev := log.Debug()
	if resp.StatusCode >= 300 {
		ev = log.Warn()
	}
	ev.Int("status", resp.StatusCode).Msg("request done")
	return out, nil
}

// transportKind: what retryablehttp would not retry (bad scheme, invalid
// header, TLS trust, too many redirects) will not work later either.
func transportKind(err error) Kind {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Temporary
	}
	msg := err.Error()
	for _, s := range []string{"unsupported protocol scheme", "invalid header", "certificate", "stopped after"} {
		if strings.Contains(msg, s) {
			return Permanent
		}
	}
	return Temporary
}

// JoinURL appends path to base with exactly one slash between them.
func JoinURL(base, path string) string {
	if path == "" {
		return base
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}
