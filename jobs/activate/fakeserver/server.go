// Package fakeserver is a real HTTP server on the loopback interface that
// emulates the destinations parcours activates segments into — a generic
// webhook, Google Customer Match through the Data Manager API, Meta
// Custom Audiences (/{audience_id}/users) and a Mailchimp-style list — and
// keeps each audience's members, so tests can compare what a destination
// ends up holding with the intended audience. It honours Idempotency-Key
// headers (a replayed key is answered from the stored reply, never applied
// twice) and injects faults: 429 with Retry-After, 500, 503, stalls past
// the client timeout, dropped connections before or after applying,
// per-record or whole-request rejections, scripted failure sequences and a
// seeded random failure rate.
package fakeserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Platform is a family of emulated endpoints.
type Platform string

// Emulated platforms.
const (
	Webhook   Platform = "webhook"
	Meta      Platform = "meta"
	Mailchimp Platform = "mailchimp"
)

// Options configures authentication.
type Options struct {
	// Token is the bearer token Google, Meta and Mailchimp endpoints
	// require; empty accepts any.
	Token string
	// WebhookSecret checks webhook requests the Standard Webhooks way
	// (webhook.go); empty accepts any.
	WebhookSecret string
	// WebhookMaxBytes, when positive, refuses larger webhook bodies (413).
	WebhookMaxBytes int
	// Now is the server's clock for webhook timestamps (default
	// time.Now), so tests can send a request "later".
	Now func() time.Time
	// MetaAppSecret, when set, makes Meta endpoints require a valid
	// appsecret_proof (see meta_auth.go).
	MetaAppSecret string
}

// Stats counts what the server saw.
type Stats struct {
	Requests int
	// Applied counts requests whose changes were applied (once per
	// idempotency key); Replayed counts answers served from the store.
	Applied      int
	Replayed     int
	Unauthorized int
	Faults       map[Fault]int
}

// Server is a running fake destination.
type Server struct {
	// URL is the base address, http://127.0.0.1:port.
	URL string

	opts      Options
	srv       *http.Server
	closing   chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	faults Faults
	script []Fault
	rng    *rand.Rand
	stats  Stats
	done   map[string]stored
	lists  map[string]*audience
	dm     dataManager
	meta   metaState
	// mailchimp is set by SetMailchimp (mailchimp_options.go).
	mailchimp MailchimpOptions
}

// stored is the reply kept for an idempotency key.
type stored struct {
	bodySum [32]byte
	rep     reply
}

// reply is one answer.
type reply struct {
	status int
	body   []byte
}

// New starts a server on 127.0.0.1 at a free port.
func New(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeserver: listen: %w", err)
	}
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		opts:    opts,
		closing: make(chan struct{}),
		rng:     rand.New(rand.NewPCG(0, 0)),
		stats:   Stats{Faults: map[Fault]int{}},
		done:    map[string]stored{},
		lists:   map[string]*audience{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook/{name}", s.endpoint(Webhook, s.webhook))
	mux.HandleFunc("POST /datamanager/{ver}/audienceMembers:ingest", s.endpoint(DataManager, s.dataManagerIngest))
	mux.HandleFunc("POST /datamanager/{ver}/audienceMembers:remove", s.endpoint(DataManager, s.dataManagerRemove))
	mux.HandleFunc("GET /datamanager/{ver}/requestStatus:retrieve", s.endpoint(DataManager, s.dataManagerStatus))
	mux.HandleFunc("POST /meta/{ver}/{audience}/users", s.endpoint(Meta, s.metaUsers))
	mux.HandleFunc("DELETE /meta/{ver}/{audience}/users", s.endpoint(Meta, s.metaUsers))
	mux.HandleFunc("POST /mailchimp/3.0/lists/{list}", s.endpoint(Mailchimp, s.mailchimpBatch))
	mux.HandleFunc("POST /mailchimp/3.0/lists/{list}/members/{hash}/actions/delete-permanent", s.endpoint(Mailchimp, s.mailchimpDelete))
	mux.HandleFunc("POST /mailchimp/3.0/lists/{list}/members/{hash}/tags", s.endpoint(Mailchimp, s.mailchimpTags))
	mux.HandleFunc("GET /mailchimp/3.0/lists/{list}", s.endpoint(Mailchimp, s.mailchimpGetList))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server and any stalled handler.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	return s.srv.Close()
}

// WebhookURL is the endpoint of webhook destination name.
func (s *Server) WebhookURL(name string) string { return s.URL + "/webhook/" + name }

// BaseURL is the base URL a connector of platform p is configured with.
func (s *Server) BaseURL(p Platform) string { return s.URL + "/" + string(p) }

// SetFaults replaces the fault configuration (and restarts its script and
// random generator).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.faults.RejectValues = slices.Clone(f.RejectValues)
	s.script = slices.Clone(f.Script)
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x5deece66d))
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Faults = maps.Clone(s.stats.Faults)
	return st
}

// endpoint wraps a platform handler with faults, authentication and
// idempotency. apply runs under the server lock.
func (s *Server) endpoint(p Platform, apply func(r *http.Request, body []byte) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f := s.nextFault()
		if s.injectBefore(f, w, r) {
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "reading body: " + err.Error()})
			return
		}
		if rep, bad := s.refuse(p, r, body); bad {
			s.mu.Lock()
			s.stats.Unauthorized++
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rep.status)
			w.Write(rep.body)
			return
		}
		rep := s.applyOnce(r, body, apply)
		if f == DropAfterApply {
			hangUp(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		w.Write(rep.body)
	}
}

// applyOnce applies a request, or replays the reply stored under its
// idempotency key. Keys are scoped by method and path, as a platform
// scopes them by account; a key reused with another body is refused (422),
// which also catches an encoder that is not deterministic.
func (s *Server) applyOnce(r *http.Request, body []byte, apply func(*http.Request, []byte) reply) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	if id := r.Header.Get("webhook-id"); id != "" {
		key = id // a Standard Webhooks receiver dedupes on webhook-id
	}
	scope := r.Method + " " + r.URL.Path + " " + key
	sum := sha256.Sum256(body)
	if key != "" {
		if st, ok := s.done[scope]; ok {
			if st.bodySum != sum {
				return jsonReply(http.StatusUnprocessableEntity, map[string]string{"error": "idempotency key " + key + " reused with a different body"})
			}
			s.stats.Replayed++
			return st.rep
		}
	}
	rep := apply(r, body)
	if rep.status < 300 {
		s.stats.Applied++
	}
	// Answers the client should not retry are kept; failures the client
	// will retry are not, so the retry is served afresh.
	if key != "" && rep.status < 500 && rep.status != http.StatusTooManyRequests {
		s.done[scope] = stored{bodySum: sum, rep: rep}
	}
	return rep
}

// refuse is the one authentication check of every endpoint: Mailchimp and
// Meta answer in their own error formats, the others with a plain 401.
func (s *Server) refuse(p Platform, r *http.Request, body []byte) (reply, bool) {
	switch p {
	case Mailchimp:
		return s.mailchimpAuth(r)
	case Meta:
		return s.metaAuth(r)
	}
	if why := s.unauthorized(p, r, body); why != "" {
		return jsonReply(http.StatusUnauthorized, map[string]string{"error": why}), true
	}
	return reply{}, false
}

func (s *Server) unauthorized(p Platform, r *http.Request, body []byte) string {
	if p == Webhook {
		return s.webhookAuth(r, body)
	}
	if s.opts.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.Token {
		return "missing or wrong bearer token"
	}
	return ""
}

// refused says whether a record holding values is to be rejected, and why.
func (s *Server) refused(cleartext bool, values ...string) (string, bool) {
	for _, v := range values {
		if v == "" {
			continue
		}
		if slices.Contains(s.faults.RejectValues, v) {
			return "value refused: " + v, true
		}
		if cleartext && s.faults.RejectSubstring != "" && strings.Contains(v, s.faults.RejectSubstring) {
			return fmt.Sprintf("record %q refused", v), true
		}
	}
	return "", false
}

func jsonReply(status int, v any) reply {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return reply{status: http.StatusInternalServerError, body: []byte(`{"error":"encoding reply"}`)}
	}
	return reply{status: status, body: buf.Bytes()}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	rep := jsonReply(status, v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}
