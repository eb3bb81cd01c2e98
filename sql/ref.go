package sql

import (
	"fmt"
	"sort"
	"strings"
)

// Ref names one section of one SQL file: the unit a job declares in its
// Spec and the warehouse runs.
type Ref struct {
	File    string // file name in the sql folder, e.g. "identity.links.sql"
	Section string // the "-- name:" of the section, e.g. "build"
}

// String is "file#section", the form errors and listings use.
func (r Ref) String() string { return r.File + "#" + r.Section }

// Refs declares several sections of one file.
func Refs(file string, sections ...string) []Ref {
	out := make([]Ref, len(sections))
	for i, s := range sections {
		out[i] = Ref{File: file, Section: s}
	}
	return out
}

// All lists every section of every file, in file name and file order.
func (s *Set) All() []Ref {
	var out []Ref
	for _, f := range s.Files() {
		out = append(out, Refs(f, s.Sections(f)...)...)
	}
	return out
}

// Text returns the statement a ref names.
func (s *Set) Text(r Ref) (string, error) { return s.Section(r.File, r.Section) }

// Missing lists, sorted and once each, the refs the set does not hold:
// a misspelt section, or a file that sql_dir lacks.
func (s *Set) Missing(refs []Ref) []Ref {
	seen := map[Ref]bool{}
	var out []Ref
	for _, r := range refs {
		if seen[r] {
			continue
		}
		seen[r] = true
		if _, err := s.Text(r); err != nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Check is Missing as an error that names every missing ref.
func (s *Set) Check(refs []Ref) error {
	missing := s.Missing(refs)
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, r := range missing {
		names[i] = r.String()
	}
	return fmt.Errorf("missing SQL sections: %s", strings.Join(names, ", "))
}

// For is a section of the file named after the table it builds:
// For("cold.kpis", "publish") is cold.kpis.sql#publish.
func For(table, section string) Ref { return Ref{File: table + ".sql", Section: section} }
