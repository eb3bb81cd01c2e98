package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// memConn is an in-memory connector whose destination refuses any request
// holding a bad key, naming the bad keys or not.
type memConn struct {
	bad      map[string]bool
	named    bool
	failAt   int // the failAt-th Send (from 1) fails temporarily
	sends    int
	sizes    []int
	split    bool
	accepted []string
}

func (m *memConn) Name() string                      { return "mem" }
func (m *memConn) RemoteID(x Member) (string, error) { return x.Key, nil }
func (m *memConn) Encode(b Batch) ([]Request, []Rejection, error) {
	keys := make([]string, len(b.Members))
	for i, x := range b.Members {
		keys[i] = x.Key
	}
	return []Request{{Key: IdempotencyKey(b), Members: keys, Body: []byte(strings.Join(keys, ","))}}, nil, nil
}

func (m *memConn) Send(_ context.Context, r Request) (Result, error) {
	m.sends++
	m.sizes = append(m.sizes, len(r.Members))
	if m.sends == m.failAt {
		return Result{Attempts: 3, Retries: 2}, &Error{Kind: Temporary, Op: "mem", Status: 503}
	}
	var bad []Rejection
	for _, k := range r.Members {
		if m.bad[k] {
			bad = append(bad, Rejection{Key: k, Reason: "bad " + k})
		}
	}
	if len(bad) > 0 {
		e := &Error{Kind: Rejected, Op: "mem", Status: 400, Reason: "batch refused"}
		if m.named {
			e.Bad = bad
		}
		return Result{Attempts: 1}, e
	}
	m.accepted = append(m.accepted, r.Members...)
	return Result{Accepted: r.Members, Attempts: 1}, nil
}

type splitConn struct{ *memConn }

func (s splitConn) Subset(r Request, keys []string) (Request, error) {
	if _, err := Keep(r.Members, func(k string) string { return k }, keys); err != nil {
		return Request{}, err
	}
	return Request{Key: SubsetKey(r.Key, keys), Members: slices.Clone(keys)}, nil
}

func members(n int) []Member {
	out := make([]Member, n)
	for i := range out {
		out[i] = Member{Key: fmt.Sprintf("m%d", i)}
	}
	return out
}

func TestDeliverSplits(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		bad          []string
		named        bool
		wantRequests int
		wantSizes    []int
	}{
		{"clean", 8, nil, false, 1, []int{8}},
		// Named: drop the named record, re-send the other seven.
		{"one bad named", 8, []string{"m5"}, true, 2, []int{8, 7}},
		{"all bad named", 2, []string{"m0", "m1"}, true, 1, []int{2}},
		// Unnamed, depth first: 8 refused; m0-3 ok; m4-7 refused; m4-5
		// refused; m4 ok; m5 refused alone; m6-7 ok.
		{"one bad unnamed", 8, []string{"m5"}, false, 7, []int{8, 4, 4, 2, 1, 1, 2}},
		// 8 refused; m0-3 refused; m0-1 refused; m0 ok; m1 alone; m2-3 ok;
		// m4-7 refused; m4-5 ok; m6-7 refused; m6 alone; m7 ok.
		{"two bad unnamed", 8, []string{"m1", "m6"}, false, 11, []int{8, 4, 2, 1, 1, 2, 4, 2, 2, 1, 1}},
		{"single bad unnamed", 1, []string{"m0"}, false, 1, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memConn{bad: map[string]bool{}, named: tt.named}
			for _, k := range tt.bad {
				m.bad[k] = true
			}
			c := splitConn{m}
			reqs, _, _ := c.Encode(Batch{Destination: "d", Segment: "s", Date: "2024-03-01", Op: OpUpsert, Number: 1, Members: members(tt.n)})
			out, err := Deliver(context.Background(), c, reqs[0])
			if err != nil {
				t.Fatal(err)
			}
			if out.Requests != tt.wantRequests || out.Splits != tt.wantRequests-1 || !slices.Equal(m.sizes, tt.wantSizes) {
				t.Errorf("requests %d splits %d sizes %v, want %d, %d, %v", out.Requests, out.Splits, m.sizes, tt.wantRequests, tt.wantRequests-1, tt.wantSizes)
			}
			var rejected []string
			for _, r := range out.Rejected {
				rejected = append(rejected, r.Key)
				if r.Reason == "" {
					t.Errorf("no reason for %s", r.Key)
				}
			}
			slices.Sort(rejected)
			if !slices.Equal(rejected, tt.bad) {
				t.Errorf("rejected %v, want %v", rejected, tt.bad)
			}
			if len(out.Accepted)+len(out.Rejected) != tt.n || len(m.accepted) != len(out.Accepted) {
				t.Errorf("accepted %d (server %d) + rejected %d != %d", len(out.Accepted), len(m.accepted), len(out.Rejected), tt.n)
			}
		})
	}
}

func TestDeliverWithoutSplitterRejectsAll(t *testing.T) {
	m := &memConn{bad: map[string]bool{"m1": true}}
	reqs, _, _ := m.Encode(Batch{Destination: "d", Segment: "s", Date: "2024-03-01", Op: OpUpsert, Number: 1, Members: members(3)})
	out, err := Deliver(context.Background(), m, reqs[0])
	if err != nil || len(out.Rejected) != 3 || len(out.Accepted) != 0 || out.Requests != 1 {
		t.Fatalf("out %+v err %v, want 3 rejected after 1 request", out, err)
	}
}

func TestDeliverStopsOnTemporary(t *testing.T) {
	// Send 1 refuses the batch, send 2 (first half) goes through, send 3
	// (second half) fails temporarily: the accepted half stays accepted,
	// the error comes back for the dead letter, attempts add up.
	m := &memConn{bad: map[string]bool{"m3": true}, failAt: 3}
	c := splitConn{m}
	reqs, _, _ := c.Encode(Batch{Destination: "d", Segment: "s", Date: "2024-03-01", Op: OpUpsert, Number: 1, Members: members(4)})
	out, err := Deliver(context.Background(), c, reqs[0])
	var de *Error
	if !errors.As(err, &de) || de.Kind != Temporary {
		t.Fatalf("err %v, want temporary", err)
	}
	if !slices.Equal(out.Accepted, []string{"m0", "m1"}) || out.Requests != 3 || out.Attempts != 5 || out.Retries != 2 {
		t.Fatalf("out %+v", out)
	}
}

func TestBatchValidateAndKeys(t *testing.T) {
	ok := Batch{Destination: "crm", Segment: "rfm:champions", Date: "2024-03-01", Number: 3, Op: OpRemove, Members: members(2)}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := IdempotencyKey(ok); got != "crm/rfm:champions/2024-03-01/remove/3" {
		t.Fatalf("IdempotencyKey = %s", got)
	}
	if PartKey("k", 0, 1) != "k" || PartKey("k", 1, 3) != "k/p2" {
		t.Fatal("PartKey")
	}
	if SubsetKey("k", []string{"a", "b"}) != SubsetKey("k", []string{"a", "b"}) || SubsetKey("k", []string{"a"}) == SubsetKey("k", []string{"b"}) {
		t.Fatal("SubsetKey not stable or not distinct")
	}
	bad := []Batch{
		{Destination: "a/b", Segment: "s", Date: "d", Op: OpUpsert},
		{Destination: "a", Segment: "s s", Date: "d", Op: OpUpsert},
		{Destination: "a", Segment: "s", Date: "", Op: OpUpsert},
		{Destination: "a", Segment: "s", Date: "d", Op: "delete"},
		{Destination: "a", Segment: "s", Date: "d", Op: OpUpsert, Members: []Member{{Key: "x"}, {Key: "x"}}},
		{Destination: "a", Segment: "s", Date: "d", Op: OpUpsert, Members: []Member{{}}},
	}
	for i, b := range bad {
		if err := b.Validate(); err == nil {
			t.Errorf("bad batch %d accepted", i)
		}
	}
}

func TestChunk(t *testing.T) {
	tests := []struct {
		n, size int
		want    []int
	}{
		{0, 3, nil}, {5, 0, []int{5}}, {5, 5, []int{5}}, {5, 2, []int{2, 2, 1}}, {6, 3, []int{3, 3}},
	}
	for _, tt := range tests {
		var got []int
		for _, ch := range Chunk(members(tt.n), tt.size) {
			got = append(got, len(ch))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Chunk(%d, %d) sizes %v, want %v", tt.n, tt.size, got, tt.want)
		}
	}
}
