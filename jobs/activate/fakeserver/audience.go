package fakeserver

import (
	"maps"
	"slices"
	"sort"
)

// Entry is one member as a destination holds it.
type Entry struct {
	// ID is how the platform knows the member: the webhook key, "em:" or
	// "ph:" plus a hashed identifier (Google, Meta), the subscriber hash
	// (Mailchimp).
	ID string
	// Fields are what was last sent for it (cleartext fields for the
	// webhook and Mailchimp; consent and identifiers for Google).
	Fields map[string]string
	// Active is false for a Mailchimp member who unsubscribed.
	Active bool
}

// audience is one list, user list or segment.
type audience struct {
	entries map[string]*Entry
	// applied counts changes applied per member id, adds and removals.
	applied map[string]int
}

func listKey(p Platform, id string) string { return string(p) + "|" + id }

// list returns (creating) the audience of platform p named id; the caller
// holds s.mu.
func (s *Server) list(p Platform, id string) *audience {
	k := listKey(p, id)
	a := s.lists[k]
	if a == nil {
		a = &audience{entries: map[string]*Entry{}, applied: map[string]int{}}
		s.lists[k] = a
	}
	return a
}

func (a *audience) put(id string, fields map[string]string) {
	a.entries[id] = &Entry{ID: id, Fields: fields, Active: true}
	a.applied[id]++
}

func (a *audience) remove(id string) bool {
	if _, ok := a.entries[id]; !ok {
		return false
	}
	delete(a.entries, id)
	a.applied[id]++
	return true
}

// Audience lists, sorted, the ids of the members audience id of platform p
// holds now (active ones only). Webhook audiences are named
// "destination/segment", Google ones by user list resource name
// ("customers/1/userLists/2"), Meta ones by audience id, Mailchimp ones by
// list id.
func (s *Server) Audience(p Platform, id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.lists[listKey(p, id)]
	if a == nil {
		return nil
	}
	out := make([]string, 0, len(a.entries))
	for k, e := range a.entries {
		if e.Active {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Member returns a copy of one member of an audience.
func (s *Server) Member(p Platform, id, member string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.lists[listKey(p, id)]
	if a == nil || a.entries[member] == nil {
		return Entry{}, false
	}
	e := *a.entries[member]
	e.Fields = maps.Clone(e.Fields)
	return e, true
}

// Applications counts the changes applied for one member of an audience
// (each add, update or removal once): with idempotency honoured, a member
// sent once is applied once, whatever the retries.
func (s *Server) Applications(p Platform, id, member string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.lists[listKey(p, id)]
	if a == nil {
		return 0
	}
	return a.applied[member]
}

// Audiences lists the audience ids of platform p that exist.
func (s *Server) Audiences(p Platform) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	prefix := string(p) + "|"
	for k := range s.lists {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			out = append(out, k[len(prefix):])
		}
	}
	slices.Sort(out)
	return out
}

// isLowerHex64 tells a SHA-256 digest in lowercase hex, the form the ad
// platforms take hashed identifiers in.
func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}
