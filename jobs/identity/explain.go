package identity

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/parcours/parcours/internal/warehouse"
)

// Step is one identifier in an explanation tree, with the link that
// reached it from its parent.
type Step struct {
	Type      string  `json:"type"`
	Label     string  `json:"label"`
	Source    string  `json:"source,omitempty"`   // extract that showed the link to the parent
	Evidence  string  `json:"evidence,omitempty"` // first file or event of that link
	FirstSeen string  `json:"first_seen,omitempty"`
	Blocked   string  `json:"blocked,omitempty"` // why the guard refused to stitch on it
	Children  []*Step `json:"children,omitempty"`
}

// Explanation says which customer an identifier belongs to and why.
type Explanation struct {
	Query       string  `json:"query"`
	Type        string  `json:"type"`
	CustomerKey string  `json:"customer_key"`
	Known       bool    `json:"known"`
	Identifiers int     `json:"identifiers"`
	Tree        *Step   `json:"tree"`
	Blocked     []*Step `json:"blocked_neighbours,omitempty"`
}

// Candidate is one reading of a user-typed identifier: a type and its
// normalised value, tokenised by the caller.
type Candidate struct {
	Type  string
	Value string
}

// Candidates lists the plausible types of an identifier typed by a person,
// most likely first: the same normalisation as ingest (emails lower-cased,
// phones to E.164 in the default region).
func Candidates(s string, normPhone func(string) string) []Candidate {
	s = strings.TrimSpace(s)
	var out []Candidate
	if strings.Contains(s, "@") {
		return []Candidate{{Email, strings.ToLower(s)}}
	}
	if regexp.MustCompile(`^[A-Za-z]{0,3}[0-9]{3,}$`).MatchString(s) {
		out = append(out, Candidate{CustomerID, s})
	}
	if p := normPhone(s); p != "" {
		out = append(out, Candidate{Phone, p})
	}
	out = append(out, Candidate{LoyaltyCard, s}, Candidate{CookieID, s}, Candidate{DeviceID, s}, Candidate{CustomerID, s})
	return out
}

// explainSQL holds the explanation's queries.
const explainSQL = "identity.explain.sql"

// Explain builds the tree of links from one identifier to every identifier
// of its customer: a breadth-first walk over the links the stitcher used,
// so each path is a shortest chain of evidence.
func Explain(ctx context.Context, wh *warehouse.Warehouse, token, query string) (*Explanation, error) {
	var ex Explanation
	ex.Query = query
	q, err := wh.SQL.Section(explainSQL, "customer")
	if err != nil {
		return nil, err
	}
	err = warehouse.QueryRow(ctx, wh.DB, q, sql.Named("token", token)).
		Scan(&ex.Type, &ex.CustomerKey, &ex.Known, &ex.Identifiers)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("identifier not found in the identity graph")
	}
	if err != nil {
		return nil, fmt.Errorf("look up identifier: %w", err)
	}
	type node struct {
		typ, label, blocked string
		inCustomer          bool
	}
	nodes := map[string]*node{}
	byKey := sql.Named("customer_key", ex.CustomerKey)
	if q, err = wh.SQL.Section(explainSQL, "near"); err != nil {
		return nil, err
	}
	rows, err := warehouse.Query(ctx, wh.DB, q, byKey)
	if err != nil {
		return nil, fmt.Errorf("read customer: %w", err)
	}
	for rows.Next() {
		var t string
		n := &node{}
		if err := rows.Scan(&t, &n.typ, &n.label, &n.inCustomer, &n.blocked); err != nil {
			rows.Close()
			return nil, err
		}
		nodes[t] = n
	}
	rows.Close()
	type link struct{ other, source, evidence, first string }
	adj := map[string][]link{}
	if q, err = wh.SQL.Section(explainSQL, "links"); err != nil {
		return nil, err
	}
	lrows, err := warehouse.Query(ctx, wh.DB, q, byKey)
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	for lrows.Next() {
		var a, b, src, ev, fs string
		if err := lrows.Scan(&a, &b, &src, &ev, &fs); err != nil {
			lrows.Close()
			return nil, err
		}
		adj[a] = append(adj[a], link{b, src, ev, fs})
		adj[b] = append(adj[b], link{a, src, ev, fs})
	}
	lrows.Close()
	root := &Step{Type: nodes[token].typ, Label: nodes[token].label, Blocked: nodes[token].blocked}
	ex.Tree = root
	visited := map[string]bool{token: true}
	type item struct {
		tok  string
		step *Step
	}
	queue := []item{{token, root}}
	blockedSeen := map[string]bool{}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if nodes[it.tok] != nil && nodes[it.tok].blocked != "" && it.tok != token {
			continue // the guard did not stitch through it
		}
		for _, l := range adj[it.tok] {
			n := nodes[l.other]
			if n == nil || visited[l.other] {
				continue
			}
			if !n.inCustomer || n.blocked != "" {
				if !blockedSeen[l.other] {
					blockedSeen[l.other] = true
					ex.Blocked = append(ex.Blocked, &Step{Type: n.typ, Label: n.label, Source: l.source,
						Evidence: l.evidence, FirstSeen: l.first, Blocked: n.blocked})
				}
				continue
			}
			visited[l.other] = true
			s := &Step{Type: n.typ, Label: n.label, Source: l.source, Evidence: l.evidence, FirstSeen: l.first}
			it.step.Children = append(it.step.Children, s)
			queue = append(queue, item{l.other, s})
		}
	}
	sort.Slice(ex.Blocked, func(i, j int) bool { return ex.Blocked[i].Label < ex.Blocked[j].Label })
	return &ex, nil
}

// Render writes an explanation as an indented tree.
func (ex *Explanation) Render(w io.Writer) {
	kind := "anonymous (no CRM record)"
	if ex.Known {
		kind = "known customer"
	}
	fmt.Fprintf(w, "%s %s belongs to customer %s: %s, %d identifiers\n\n", ex.Type, ex.Tree.Label, ex.CustomerKey, kind, ex.Identifiers)
	var walk func(s *Step, prefix string, last bool, root bool)
	walk = func(s *Step, prefix string, last, root bool) {
		line := fmt.Sprintf("%s %s", s.Type, s.Label)
		branch, next := "", prefix
		if !root {
			branch = "├─ "
			next = prefix + "│  "
			if last {
				branch = "└─ "
				next = prefix + "   "
			}
			line += fmt.Sprintf("   (%s, %s, first %s)", s.Source, s.Evidence, s.FirstSeen)
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, line)
		for i, c := range s.Children {
			walk(c, next, i == len(s.Children)-1, false)
		}
	}
	walk(ex.Tree, "", true, true)
	if len(ex.Blocked) > 0 {
		fmt.Fprintln(w, "\nlinked but not used (over-merge guard):")
		for _, b := range ex.Blocked {
			fmt.Fprintf(w, "  %s %s: %s   (%s, %s)\n", b.Type, b.Label, b.Blocked, b.Source, b.Evidence)
		}
	}
}
