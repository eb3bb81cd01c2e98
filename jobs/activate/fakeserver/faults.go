package fakeserver

import (
	"io"
	"net/http"
	"time"
)

// Fault is a failure the server injects into one request.
type Fault string

// Faults the server can inject.
const (
	// NoFault serves the request normally.
	NoFault Fault = ""
	// TooManyRequests answers 429, with Retry-After when Faults.RetryAfter is set.
	TooManyRequests Fault = "429"
	// InternalError answers 500.
	InternalError Fault = "500"
	// Unavailable answers 503, with Retry-After when Faults.RetryAfter is set.
	Unavailable Fault = "503"
	// Timeout stalls past the client's timeout (Faults.Delay) and applies
	// nothing.
	Timeout Fault = "timeout"
	// Drop closes the connection before applying anything.
	Drop Fault = "drop"
	// DropAfterApply applies the request, then closes the connection
	// before answering: the client must retry under the same idempotency
	// key and the server must not apply it twice.
	DropAfterApply Fault = "drop_after_apply"
)

// RejectMode says how records the server refuses are reported.
type RejectMode string

// Reject modes.
const (
	// PerRecord applies the good records and lists the bad ones in a 2xx
	// answer (Google partial failure, Meta invalid entries, Mailchimp
	// errors, webhook "rejected").
	PerRecord RejectMode = ""
	// WholeNamed refuses the whole request with a 400 naming the bad
	// records (where the platform's error format can), applying nothing.
	WholeNamed RejectMode = "whole_named"
	// WholeUnnamed refuses the whole request with a 400 that says nothing
	// about which record is at fault.
	WholeUnnamed RejectMode = "whole_unnamed"
)

// Faults configures failures. The zero value injects none.
type Faults struct {
	// Script is consumed one fault per incoming request, in order, before
	// random faults apply: [500, 500] is "fail twice, then succeed".
	Script []Fault
	// Rate is the share of further requests failing with a fault drawn
	// from Kinds (default InternalError, Unavailable, Drop), from a
	// generator seeded with Seed.
	Rate  float64
	Kinds []Fault
	Seed  uint64
	// RetryAfter is the Retry-After value sent with 429 and 503 (delay
	// seconds such as "1", or an HTTP-date); empty sends none.
	RetryAfter string
	// Delay is how long a Timeout stalls (default 10 s) unless the client
	// goes away first.
	Delay time.Duration
	// RejectSubstring refuses cleartext records (webhook keys or emails,
	// Mailchimp emails) that contain it.
	RejectSubstring string
	// RejectValues refuses records holding any of these exact values:
	// hashed identifiers for Google and Meta, keys or emails otherwise.
	RejectValues []string
	// RejectMode says how refused records are reported.
	RejectMode RejectMode
}

// nextFault draws the fault for one request and counts it.
func (s *Server) nextFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	f := NoFault
	switch {
	case len(s.script) > 0:
		f = s.script[0]
		s.script = s.script[1:]
	case s.faults.Rate > 0 && s.rng.Float64() < s.faults.Rate:
		kinds := s.faults.Kinds
		if len(kinds) == 0 {
			kinds = []Fault{InternalError, Unavailable, Drop}
		}
		f = kinds[s.rng.IntN(len(kinds))]
	}
	if f != NoFault {
		s.stats.Faults[f]++
	}
	return f
}

// injectBefore performs a fault that happens instead of serving the
// request; it reports whether it answered.
func (s *Server) injectBefore(f Fault, w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	retryAfter, delay := s.faults.RetryAfter, s.faults.Delay
	s.mu.Unlock()
	switch f {
	case TooManyRequests, Unavailable:
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		status := http.StatusTooManyRequests
		if f == Unavailable {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]string{"error": http.StatusText(status)})
	case InternalError:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "injected failure"})
	case Timeout:
		// Read the body first: only then does net/http notice the client
		// hanging up and cancel the request's context.
		io.Copy(io.Discard, r.Body)
		if delay <= 0 {
			delay = 10 * time.Second
		}
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			writeJSON(w, http.StatusGatewayTimeout, map[string]string{"error": "injected stall"})
		case <-r.Context().Done():
		case <-s.closing:
		}
	case Drop:
		hangUp(w)
	default:
		return false
	}
	return true
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): the closest is an aborted handler.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
