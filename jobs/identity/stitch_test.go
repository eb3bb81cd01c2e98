package identity

import (
	"testing"
)

// graph builds nodes named "type:value" and customer-id links.
type graph struct {
	nodes []Node
	idx   map[string]int
	edges []Edge
}

func newGraph() *graph { return &graph{idx: map[string]int{}} }

func (g *graph) node(typ, v string, firstSeen int64) int {
	k := typ + ":" + v
	if i, ok := g.idx[k]; ok {
		return i
	}
	g.idx[k] = len(g.nodes)
	g.nodes = append(g.nodes, Node{Token: k, Type: typ, FirstSeen: firstSeen})
	return g.idx[k]
}

func (g *graph) link(customer string, typ, v string) {
	c := g.node(CustomerID, customer, int64(len(customer)))
	g.edges = append(g.edges, Edge{A: c, B: g.node(typ, v, 0)})
}

func (g *graph) same(r Result, a, b string) bool { return r.Comp[g.idx[a]] == r.Comp[g.idx[b]] }

func TestStitch(t *testing.T) {
	lim := Limits{MaxCustomerIDs: 2, MaxCustomersPerDevice: 1}
	tests := []struct {
		name        string
		build       func(g *graph)
		same, apart [][2]string
		blocked     []string
	}{
		{
			name: "one person's CRM record, cookie and card",
			build: func(g *graph) {
				g.link("C1", Email, "jane@x.fr")
				g.link("C1", CookieID, "ck1")
				g.link("C1", LoyaltyCard, "123")
			},
			same: [][2]string{{"customer_id:C1", "cookie_id:ck1"}, {"email:jane@x.fr", "loyalty_card:123"}},
		},
		{
			name: "a duplicate CRM record sharing the email is merged, and may share its own browser",
			build: func(g *graph) {
				g.link("C1", Email, "jane@x.fr")
				g.link("C2", Email, "jane@x.fr")
				g.link("C1", CookieID, "ck1")
				g.link("C2", CookieID, "ck1")
			},
			same: [][2]string{{"customer_id:C1", "customer_id:C2"}, {"cookie_id:ck1", "customer_id:C2"}},
		},
		{
			name: "a shared mailbox of five customers is blocked",
			build: func(g *graph) {
				for _, c := range []string{"C1", "C2", "C3", "C4", "C5"} {
					g.link(c, Email, "contact@acme.fr")
				}
			},
			apart:   [][2]string{{"customer_id:C1", "customer_id:C2"}, {"customer_id:C1", "email:contact@acme.fr"}},
			blocked: []string{"email:contact@acme.fr"},
		},
		{
			name: "a family computer used by two people is blocked",
			build: func(g *graph) {
				g.link("C1", Email, "a@x.fr")
				g.link("C2", Email, "b@x.fr")
				g.link("C1", CookieID, "family")
				g.link("C2", CookieID, "family")
			},
			apart:   [][2]string{{"customer_id:C1", "customer_id:C2"}},
			blocked: []string{"cookie_id:family"},
		},
		{
			name: "a blocked identifier does not bridge, but other links still join",
			build: func(g *graph) {
				g.link("C1", Phone, "+33600000000")
				g.link("C2", Phone, "+33600000000")
				g.link("C3", Phone, "+33600000000")
				g.link("C1", Email, "a@x.fr")
				g.link("C2", Email, "a@x.fr")
			},
			same:    [][2]string{{"customer_id:C1", "customer_id:C2"}},
			apart:   [][2]string{{"customer_id:C1", "customer_id:C3"}},
			blocked: []string{"phone:+33600000000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph()
			tt.build(g)
			r := Stitch(g.nodes, g.edges, lim)
			for _, p := range tt.same {
				if !g.same(r, p[0], p[1]) {
					t.Errorf("%s and %s should be one customer", p[0], p[1])
				}
			}
			for _, p := range tt.apart {
				if g.same(r, p[0], p[1]) {
					t.Errorf("%s and %s should be apart", p[0], p[1])
				}
			}
			var blocked []string
			for _, b := range r.Blocked {
				blocked = append(blocked, g.nodes[b.Node].Token)
			}
			if len(blocked) != len(tt.blocked) {
				t.Fatalf("blocked = %v, want %v", blocked, tt.blocked)
			}
			for i := range blocked {
				if blocked[i] != tt.blocked[i] {
					t.Fatalf("blocked = %v, want %v", blocked, tt.blocked)
				}
			}
		})
	}
}

// The representative is the earliest-seen customer id, whatever the order
// nodes and edges arrive in: keys do not depend on load order.
func TestRepresentativeIsStable(t *testing.T) {
	build := func(reverse bool) (*graph, Result) {
		g := newGraph()
		ids := []struct {
			c  string
			fs int64
		}{{"C9", 100}, {"C2", 300}, {"C5", 200}}
		if reverse {
			ids[0], ids[2] = ids[2], ids[0]
		}
		for _, id := range ids {
			g.node(CustomerID, id.c, id.fs)
		}
		for _, id := range ids {
			g.edges = append(g.edges, Edge{A: g.idx["customer_id:"+id.c], B: g.node(Email, "same@x.fr", 0)})
		}
		return g, Stitch(g.nodes, g.edges, Limits{MaxCustomerIDs: 3, MaxCustomersPerDevice: 1})
	}
	for _, rev := range []bool{false, true} {
		g, r := build(rev)
		if len(r.Reps) != 1 || g.nodes[r.Reps[0]].Token != "customer_id:C9" {
			t.Fatalf("reverse=%v: representative %v, want customer_id:C9 (seen first)", rev, g.nodes[r.Reps[0]].Token)
		}
	}
}
