package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// Request is one encoded payload: what `activate plan` writes to a file and
// `activate apply` sends unchanged. It holds no secret (bearer tokens are
// added by Send); an HMAC signature computed at encoding time may be in
// Header. It marshals to JSON as is (Body as base64).
type Request struct {
	// Key is the request's idempotency key: the batch's key, with a
	// "/pN" suffix when a batch needs several requests, or "/s…" for a
	// subset made when a rejected batch is split.
	Key    string `json:"key"`
	Method string `json:"method"`
	// Path is relative to the destination's base URL (a file name for a
	// file drop).
	Path   string      `json:"path"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body"`
	// Members are the keys of the members in Body, in body order.
	Members []string `json:"members"`
}

// Rejection is a member the destination (or the encoder) refused, and why.
type Rejection struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// Result is what one Send achieved. Accepted and Rejected together hold
// every member of the request when Send returns no error.
type Result struct {
	Accepted []string
	Rejected []Rejection
	// Status is the last HTTP status seen (0 for no response, or a file drop).
	Status int
	// Attempts counts HTTP attempts in all (a request's retries included,
	// and every call when one Send makes several); Retries counts the
	// attempts after a first one.
	Attempts int
	Retries  int
}

// Connector is one destination type. Implementations are safe for
// concurrent use.
type Connector interface {
	// Name is the destination's configured name.
	Name() string
	// Encode turns a batch into the requests that carry it, without any
	// network or file access: the same batch gives the same bytes.
	// Members it cannot carry (no usable identifier) come back as skipped.
	Encode(b Batch) (reqs []Request, skipped []Rejection, err error)
	// RemoteID is the id the destination knows the member by (what
	// ops.sync_state keeps to remove it after erasure).
	RemoteID(m Member) (string, error)
	// Send delivers one request. Errors are *Error values saying whether
	// to retry later, give up, or split the batch.
	Send(ctx context.Context, r Request) (Result, error)
}

// Splitter is implemented by connectors whose destinations can refuse a
// whole request for one bad record: Subset re-encodes r with only the
// members listed (keys in r.Members), under a new key.
type Splitter interface {
	Subset(r Request, keys []string) (Request, error)
}

// PartKey is the key of part i (from 0) of a batch encoded into n requests:
// the batch key itself when n is 1.
func PartKey(batchKey string, i, n int) string {
	if n <= 1 {
		return batchKey
	}
	return fmt.Sprintf("%s/p%d", batchKey, i+1)
}

// SubsetKey names the subset of a request holding keys: stable, so a subset
// re-sent by a later run replays under the same idempotency key.
func SubsetKey(parent string, keys []string) string {
	h := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return parent + "/s" + hex.EncodeToString(h[:6])
}

// Keep returns the elements of items whose key (by key) is in keys,
// in their order; it backs Subset implementations.
func Keep[T any](items []T, key func(T) string, keys []string) ([]T, error) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	out := make([]T, 0, len(keys))
	for _, it := range items {
		if want[key(it)] {
			out = append(out, it)
			delete(want, key(it))
		}
	}
	if len(want) > 0 {
		return nil, fmt.Errorf("subset: %d keys not in the request", len(want))
	}
	return out, nil
}

// CloneHeader copies h so requests never share a header map.
func CloneHeader(h http.Header) http.Header {
	if h == nil {
		return http.Header{}
	}
	return h.Clone()
}
