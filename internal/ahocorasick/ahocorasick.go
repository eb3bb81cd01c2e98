// Package ahocorasick tells whether a text contains any of many strings in
// one pass over the text (Aho and Corasick, 1975), whatever their number:
// the erasure scrub looks for thousands of identifier forms in hundreds of
// thousands of quarantined rows, where one substring search per (row,
// value) pair took minutes.
package ahocorasick

import "sort"

// Matcher finds the patterns it was built with. It is read-only once
// built, so one Matcher may serve many goroutines.
type Matcher struct {
	// edges[s] are state s's goto transitions sorted by byte.
	edges [][]edge
	fail  []int32
	// out[s] is true when some pattern ends at s or at a state its
	// failure chain reaches: reaching s means a match.
	out   []bool
	empty bool // an empty pattern occurs in every text
}

type edge struct {
	b  byte
	to int32
}

// New builds a Matcher for the patterns (bytes, compared exactly).
func New(patterns []string) *Matcher {
	m := &Matcher{edges: [][]edge{nil}, fail: []int32{0}, out: []bool{false}}
	for _, p := range patterns {
		if p == "" {
			m.empty = true
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			next, ok := m.child(s, p[i])
			if !ok {
				next = int32(len(m.edges))
				m.edges = append(m.edges, nil)
				m.fail = append(m.fail, 0)
				m.out = append(m.out, false)
				m.addEdge(s, p[i], next)
			}
			s = next
		}
		m.out[s] = true
	}
	// Failure links breadth first: a state's link is the longest proper
	// suffix of its path that is also a path from the root.
	queue := make([]int32, 0, len(m.edges))
	for _, e := range m.edges[0] {
		queue = append(queue, e.to) // depth 1 fails to the root
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range m.edges[s] {
			f := m.fail[s]
			for {
				if t, ok := m.child(f, e.b); ok {
					m.fail[e.to] = t
					break
				}
				if f == 0 {
					m.fail[e.to] = 0
					break
				}
				f = m.fail[f]
			}
			m.out[e.to] = m.out[e.to] || m.out[m.fail[e.to]]
			queue = append(queue, e.to)
		}
	}
	return m
}

func (m *Matcher) child(s int32, b byte) (int32, bool) {
	es := m.edges[s]
	i := sort.Search(len(es), func(i int) bool { return es[i].b >= b })
	if i < len(es) && es[i].b == b {
		return es[i].to, true
	}
	return 0, false
}

func (m *Matcher) addEdge(s int32, b byte, to int32) {
	es := m.edges[s]
	i := sort.Search(len(es), func(i int) bool { return es[i].b >= b })
	es = append(es, edge{})
	copy(es[i+1:], es[i:])
	es[i] = edge{b, to}
	m.edges[s] = es
}

// Contains reports whether any pattern occurs in text.
func (m *Matcher) Contains(text string) bool {
	if m.empty {
		return true
	}
	s := int32(0)
	for i := 0; i < len(text); i++ {
		for {
			if t, ok := m.child(s, text[i]); ok {
				s = t
				break
			}
			if s == 0 {
				break
			}
			s = m.fail[s]
		}
		if m.out[s] {
			return true
		}
	}
	return false
}
