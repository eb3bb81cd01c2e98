// Package delivery holds what every activation connector shares: the
// member and batch a connector encodes, the request it produces (the
// payload file `activate plan` writes), the result of sending it, error
// kinds that tell the runner what to do next, and the HTTP client every
// connector sends through (retries with backoff and jitter, Retry-After,
// rate limit, timeouts, Idempotency-Key, attempt counts).
//
// Encoding and sending are separate on purpose: Encode is pure and
// deterministic (same batch, same bytes), so a plan can be written,
// reviewed and later sent byte for byte by apply.
package delivery

import (
	"errors"
	"fmt"
	"strings"
)

// Batch operations.
const (
	// OpUpsert adds members or updates their fields.
	OpUpsert = "upsert"
	// OpRemove takes members out of the destination's audience.
	OpRemove = "remove"
)

// Member is one customer as a connector sees it: the pseudonymous key used
// for state, and the cleartext fields read from the identity vault (any of
// which may be empty).
type Member struct {
	// Key is the pseudonymous customer key; results are reported by it.
	Key string
	// RemoteID, when set, is the id the destination already knows the
	// member by (see Connector.RemoteID). A removal for an erased customer
	// carries only Key and RemoteID: the cleartext is gone.
	RemoteID    string
	Email       string
	Phone       string
	FirstName   string
	LastName    string
	CountryCode string
	PostalCode  string
	// AdUserData and AdPersonalization are Google's EU consent signals
	// for this member.
	AdUserData        bool
	AdPersonalization bool
	// Attributes are extra fields (merge fields, segment scores).
	Attributes map[string]string
	// Reason is why a removal happens, from the plan: erased, no_consent,
	// suppressed, objected (the person's choices), left_segment or
	// identifier_changed. A connector whose destination keeps people beyond
	// one audience (an email list) acts on it; empty on upserts.
	Reason string
}

// Batch is one unit of planned work for a destination: members of one
// segment to upsert or remove on one date.
type Batch struct {
	Destination string
	Segment     string
	Date        string
	Number      int
	Op          string
	// Shard is the customer shard that planned the batch ("2of4"), empty
	// on a single node: shards pushing to one destination must not share
	// batch names.
	Shard   string
	Members []Member
}

// IdempotencyKey is the stable name of a batch:
// destination/segment/date/op/number. Replaying it must not apply twice.
func IdempotencyKey(b Batch) string {
	if b.Shard != "" {
		return fmt.Sprintf("%s/%s/%s/%s/s%s-%d", b.Destination, b.Segment, b.Date, b.Op, b.Shard, b.Number)
	}
	return fmt.Sprintf("%s/%s/%s/%s/%d", b.Destination, b.Segment, b.Date, b.Op, b.Number)
}

// Validate checks what Encode relies on: the key's parts, the op, and
// unique, non-empty member keys.
func (b Batch) Validate() error {
	var errs []error
	for _, p := range []struct{ name, v string }{{"destination", b.Destination}, {"segment", b.Segment}, {"date", b.Date}, {"shard", b.Shard + "-"}} {
		if p.v == "" || strings.Contains(p.v, "/") || !printableASCII(p.v) {
			errs = append(errs, fmt.Errorf("%s %q: want printable ASCII without '/'", p.name, p.v))
		}
	}
	if b.Op != OpUpsert && b.Op != OpRemove {
		errs = append(errs, fmt.Errorf("op %q: want upsert or remove", b.Op))
	}
	if b.Number < 0 {
		errs = append(errs, fmt.Errorf("number %d: want >= 0", b.Number))
	}
	seen := make(map[string]bool, len(b.Members))
	for i, m := range b.Members {
		switch {
		case m.Key == "":
			errs = append(errs, fmt.Errorf("member %d: empty key", i))
		case seen[m.Key]:
			errs = append(errs, fmt.Errorf("member %d: key %q twice", i, m.Key))
		}
		seen[m.Key] = true
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("batch %s: %w", IdempotencyKey(b), err)
	}
	return nil
}

// Chunk cuts members into slices of at most size (the last may be
// shorter), keeping their order; size < 1 means one chunk.
func Chunk(members []Member, size int) [][]Member {
	if len(members) == 0 {
		return nil
	}
	if size < 1 || size >= len(members) {
		return [][]Member{members}
	}
	out := make([][]Member, 0, (len(members)+size-1)/size)
	for len(members) > size {
		out = append(out, members[:size:size])
		members = members[size:]
	}
	return append(out, members)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
