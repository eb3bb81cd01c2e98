package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Outcome is what became of one planned request after Deliver, splits
// included: the numbers the sync log records.
type Outcome struct {
	Accepted []string
	Rejected []Rejection
	// Requests counts Send calls (1 plus one per subset sent).
	Requests int
	// Splits counts subsets made because the destination refused a request
	// as a whole.
	Splits   int
	Attempts int
	Retries  int
}

// Deliver sends r and, when the destination refuses it as a whole
// (Rejected), takes out the records it named and re-sends the rest, or,
// when it named none, splits the request in halves (bisection) until the
// bad records stand alone, so one bad record never holds back a batch.
// A connector that cannot split gets all of r's members rejected.
//
// On a Temporary or Permanent error Deliver stops and returns it with what
// was achieved so far (subsets already accepted stay accepted; the caller
// dead-letters the request, and the next run re-sends it under the same
// keys, which the destination replays instead of applying twice).
func Deliver(ctx context.Context, c Connector, r Request) (Outcome, error) {
	var out Outcome
	err := deliver(ctx, c, r, &out, 0)
	return out, err
}

// maxDepth bounds recursion: bisecting 10,000 records needs 14 levels.
const maxDepth = 64

func deliver(ctx context.Context, c Connector, r Request, out *Outcome, depth int) error {
	if err := ctx.Err(); err != nil {
		return &Error{Kind: Temporary, Op: c.Name() + " deliver " + r.Key, Err: err}
	}
	res, err := c.Send(ctx, r)
	out.Requests++
	out.Attempts += res.Attempts
	out.Retries += res.Retries
	if err == nil {
		out.Accepted = append(out.Accepted, res.Accepted...)
		out.Rejected = append(out.Rejected, res.Rejected...)
		return nil
	}
	var de *Error
	if !errors.As(err, &de) || de.Kind != Rejected {
		return err
	}
	reason := de.Reason
	if reason == "" {
		reason = "rejected with its batch"
	}
	sp, ok := c.(Splitter)
	if !ok || depth >= maxDepth {
		for _, k := range r.Members {
			out.Rejected = append(out.Rejected, Rejection{Key: k, Reason: reason})
		}
		return nil
	}
	named := make(map[string]string)
	for _, b := range de.Bad {
		if slices.Contains(r.Members, b.Key) {
			named[b.Key] = b.Reason
		}
	}
	if len(named) > 0 {
		rest := make([]string, 0, len(r.Members)-len(named))
		for _, k := range r.Members {
			if why, bad := named[k]; bad {
				if why == "" {
					why = reason
				}
				out.Rejected = append(out.Rejected, Rejection{Key: k, Reason: why})
			} else {
				rest = append(rest, k)
			}
		}
		if len(rest) == 0 {
			return nil
		}
		return deliverSubset(ctx, c, sp, r, rest, out, depth)
	}
	if len(r.Members) <= 1 {
		for _, k := range r.Members {
			out.Rejected = append(out.Rejected, Rejection{Key: k, Reason: reason})
		}
		return nil
	}
	half := len(r.Members) / 2
	if err := deliverSubset(ctx, c, sp, r, r.Members[:half], out, depth); err != nil {
		return err
	}
	return deliverSubset(ctx, c, sp, r, r.Members[half:], out, depth)
}

func deliverSubset(ctx context.Context, c Connector, sp Splitter, r Request, keys []string, out *Outcome, depth int) error {
	sub, err := sp.Subset(r, keys)
	if err != nil {
		return &Error{Kind: Permanent, Op: c.Name() + " split " + r.Key, Err: fmt.Errorf("subset: %w", err)}
	}
	out.Splits++
	return deliver(ctx, c, sub, out, depth+1)
}
