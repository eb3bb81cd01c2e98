package identity

import (
	"sort"
)

// Identifier types, in the order they are preferred as a component's
// representative when it holds no CRM customer id. Types a company
// declares itself (account_id, member_number) rank just after the CRM id:
// they name an account, like it.
const (
	CustomerID  = "customer_id"
	Email       = "email"
	Phone       = "phone"
	LoyaltyCard = "loyalty_card"
	DeviceID    = "device_id"
	CookieID    = "cookie_id"
)

func typeRank(t string) int {
	switch t {
	case CustomerID:
		return 0
	case Email:
		return 2
	case Phone:
		return 3
	case LoyaltyCard:
		return 4
	case DeviceID:
		return 5
	case CookieID:
		return 6
	default:
		return 1 // a type of the company's own
	}
}

// weak identifiers name a browser or an app install, which a household may
// share; strong ones (email, phone, card) name a person or a mailbox.
func weak(t string) bool { return t == CookieID || t == DeviceID }

// Node is an identifier in the graph.
type Node struct {
	Token     string
	Type      string
	FirstSeen int64 // unix micros; the earliest customer id represents a component
}

// Edge links the best identifier of a row (a CRM customer id in CRM rows,
// logged-in events and survey answers; else an account id, an email...)
// to another identifier of the same row.
type Edge struct{ A, B int }

// Limits are the over-merge guards.
type Limits struct {
	MaxCustomerIDs        int // strong identifiers
	MaxCustomersPerDevice int // weak identifiers, counted in strong components
}

// Blocked is an identifier the guard refused to use for stitching.
type Blocked struct {
	Node      int
	Customers int // distinct customers it links; for Usage, its most receipts in a day
	Limit     int
	Usage     bool // blocked for how it is used (identity.usage_blocked), not for whom it links
}

// Result is the stitched graph.
type Result struct {
	// Comp gives each node's component (an index into Reps).
	Comp []int
	// Reps holds each component's representative node.
	Reps    []int
	Blocked []Blocked
	// Used reports, per edge, whether it joined two identifiers.
	Used []bool
}

// Stitch computes connected components in two passes. First customer ids
// join through strong identifiers (email, phone, loyalty card), except
// those linked to more than MaxCustomerIDs distinct customer ids (shared
// mailboxes, placeholder numbers). Then each cookie or device joins the
// component of the customers it was seen logged in as, unless those are
// more than MaxCustomersPerDevice distinct strong components (a shared
// family computer). Counting components rather than raw ids lets one
// person's two CRM records share their own browser.
func Stitch(nodes []Node, edges []Edge, lim Limits) Result {
	uf := newUnionFind(len(nodes))
	nbrs := make([][]int, len(nodes)) // non-customer node -> customer nodes
	edgeOf := make([][]int, len(nodes))
	for i, e := range edges {
		// a is the better identifier (a customer id when there is one).
		a, b := e.A, e.B
		if typeRank(nodes[a].Type) > typeRank(nodes[b].Type) {
			a, b = b, a
		}
		nbrs[b] = append(nbrs[b], a)
		edgeOf[b] = append(edgeOf[b], i)
	}
	res := Result{Used: make([]bool, len(edges))}
	blocked := make([]bool, len(nodes))
	// Pass 1: strong identifiers.
	for n := range nodes {
		if weak(nodes[n].Type) || nodes[n].Type == CustomerID || len(nbrs[n]) == 0 {
			continue
		}
		distinct := countDistinct(nbrs[n], func(c int) int { return c })
		if distinct > lim.MaxCustomerIDs {
			blocked[n] = true
			res.Blocked = append(res.Blocked, Blocked{Node: n, Customers: distinct, Limit: lim.MaxCustomerIDs})
			continue
		}
		for k, c := range nbrs[n] {
			uf.union(n, c)
			res.Used[edgeOf[n][k]] = true
		}
	}
	// Pass 2: weak identifiers, against the strong components.
	for n := range nodes {
		if !weak(nodes[n].Type) || len(nbrs[n]) == 0 {
			continue
		}
		distinct := countDistinct(nbrs[n], uf.find)
		if distinct > lim.MaxCustomersPerDevice {
			blocked[n] = true
			res.Blocked = append(res.Blocked, Blocked{Node: n, Customers: distinct, Limit: lim.MaxCustomersPerDevice})
			continue
		}
	}
	for n := range nodes {
		if !weak(nodes[n].Type) || blocked[n] {
			continue
		}
		for k, c := range nbrs[n] {
			uf.union(n, c)
			res.Used[edgeOf[n][k]] = true
		}
	}
	// Representatives: the earliest-seen customer id, else the best-ranked
	// identifier; ties broken by token so the choice is deterministic.
	best := map[int]int{}
	for n := range nodes {
		r := uf.find(n)
		cur, ok := best[r]
		if !ok || better(nodes[n], nodes[cur]) {
			best[r] = n
		}
	}
	roots := make([]int, 0, len(best))
	for r := range best {
		roots = append(roots, r)
	}
	sort.Slice(roots, func(i, j int) bool { return nodes[best[roots[i]]].Token < nodes[best[roots[j]]].Token })
	compOf := map[int]int{}
	for i, r := range roots {
		compOf[r] = i
		res.Reps = append(res.Reps, best[r])
	}
	res.Comp = make([]int, len(nodes))
	for n := range nodes {
		res.Comp[n] = compOf[uf.find(n)]
	}
	sort.Slice(res.Blocked, func(i, j int) bool { return nodes[res.Blocked[i].Node].Token < nodes[res.Blocked[j].Node].Token })
	return res
}

func better(a, b Node) bool {
	ra, rb := typeRank(a.Type), typeRank(b.Type)
	if ra != rb {
		return ra < rb
	}
	if a.Type == CustomerID && a.FirstSeen != b.FirstSeen {
		return a.FirstSeen < b.FirstSeen
	}
	return a.Token < b.Token
}

func countDistinct(xs []int, f func(int) int) int {
	seen := make(map[int]struct{}, len(xs))
	for _, x := range xs {
		seen[f(x)] = struct{}{}
	}
	return len(seen)
}

type unionFind struct{ parent, rank []int32 }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), rank: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
	}
	return u
}

func (u *unionFind) find(x int) int {
	for int(u.parent[x]) != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = int(u.parent[x])
	}
	return x
}

func (u *unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	switch {
	case u.rank[ra] < u.rank[rb]:
		u.parent[ra] = int32(rb)
	case u.rank[ra] > u.rank[rb]:
		u.parent[rb] = int32(ra)
	default:
		u.parent[rb] = int32(ra)
		u.rank[ra]++
	}
}
