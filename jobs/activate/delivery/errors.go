package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// Kind says what the runner should do with a failed request.
type Kind string

// Error kinds.
const (
	// Temporary failures (429, 5xx, 408, timeouts, dropped connections,
	// a cancelled run) are worth retrying in a later run: dead letter.
	Temporary Kind = "temporary"
	// Permanent failures (bad credentials, unknown audience, a malformed
	// request) will fail again unchanged: report, do not retry.
	Permanent Kind = "permanent"
	// Rejected means the destination refused the request's content as a
	// whole; Bad names the records at fault when the destination said.
	// Deliver splits such a request so the good records go through.
	Rejected Kind = "rejected"
)

// Error is a failed request.
type Error struct {
	Kind Kind
	// Op says what was being done ("webhook send c1/rfm:champions/…").
	Op string
	// Status is the HTTP status (0: no response).
	Status int
	// RetryAfter is the destination's requested pause, when it gave one.
	RetryAfter time.Duration
	// Reason is the destination's own message.
	Reason string
	// Bad lists the records a whole-request rejection blamed.
	Bad []Rejection
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Op + ": " + string(e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap gives the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf classifies any error: a *Error's kind, Temporary for context
// cancellation and deadlines (the run stopped, the batch did not fail),
// Permanent otherwise; "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Temporary
	}
	return Permanent
}

// StatusKind is the one place HTTP statuses map to kinds: 408, 429 and 5xx
// (but 501) are temporary; other statuses are permanent. A 400 that is the
// destination refusing content is turned into Rejected by the connector,
// which knows its error format.
func StatusKind(status int) Kind {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return Temporary
	case status >= 500 && status != http.StatusNotImplemented:
		return Temporary
	}
	return Permanent
}

// StatusError describes a non-2xx response: kind from StatusKind, the
// Retry-After the destination asked for, and the start of its body.
func StatusError(op string, resp *Response) *Error {
	e := &Error{Kind: StatusKind(resp.Status), Op: op, Status: resp.Status, Reason: Excerpt(resp.Body, 300)}
	if d, ok := RetryAfter(resp.Header, time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// Excerpt is the first n bytes of a response body, cut on a rune boundary,
// for error messages.
func Excerpt(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	b = b[:n]
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b) + "…"
}
