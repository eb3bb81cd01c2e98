package sql

import (
	"bufio"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Set is a parsed collection of SQL files.
type Set struct {
	files map[string]map[string]string
	order map[string][]string
}

// Parse reads every *.sql file at the root of fsys. A line "-- name: X"
// starts section X; text before the first marker belongs to section "main"
// (comments only are dropped).
func Parse(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list sql files: %w", err)
	}
	s := &Set{files: map[string]map[string]string{}, order: map[string][]string{}}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read sql file %s: %w", name, err)
		}
		secs, order, err := split(string(b))
		if err != nil {
			return nil, fmt.Errorf("sql file %s: %w", name, err)
		}
		s.files[name] = secs
		s.order[name] = order
	}
	return s, nil
}

func split(text string) (map[string]string, []string, error) {
	secs := map[string]string{}
	var order []string
	cur := "main"
	var b strings.Builder
	flush := func() {
		body := strings.TrimSpace(b.String())
		if body != "" && !onlyComments(body) {
			secs[cur] = body
			order = append(order, cur)
		}
		b.Reset()
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if rest, ok := strings.CutPrefix(strings.TrimSpace(t), "-- name:"); ok {
			flush()
			cur = strings.TrimSpace(rest)
			if cur == "" {
				return nil, nil, fmt.Errorf("line %d: empty section name", line)
			}
			if _, dup := secs[cur]; dup {
				return nil, nil, fmt.Errorf("line %d: section %q defined twice", line, cur)
			}
			continue
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	flush()
	return secs, order, sc.Err()
}

func onlyComments(body string) bool {
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// Has reports whether the file exists.
func (s *Set) Has(file string) bool { _, ok := s.files[file]; return ok }

// Files lists the file names, sorted.
func (s *Set) Files() []string {
	out := make([]string, 0, len(s.files))
	for f := range s.files {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Section returns one named statement of a file.
func (s *Set) Section(file, section string) (string, error) {
	secs, ok := s.files[file]
	if !ok {
		return "", fmt.Errorf("sql file %s not found", file)
	}
	q, ok := secs[section]
	if !ok {
		return "", fmt.Errorf("sql file %s has no section %q", file, section)
	}
	return q, nil
}

// Sections lists a file's sections in file order.
func (s *Set) Sections(file string) []string { return s.order[file] }

// Split splits a section's script into statements on semicolons that end
// a line (the files never put a statement-ending semicolon mid-line, nor
// one in a comment); a trailing part of comments only is dropped.
func Split(script string) []string {
	var out []string
	var b strings.Builder
	for _, line := range strings.Split(script, "\n") {
		b.WriteString(line)
		b.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if s := strings.TrimSpace(b.String()); s != ";" {
				out = append(out, s)
			}
			b.Reset()
		}
	}
	if s := strings.TrimSpace(b.String()); s != "" && !onlyComments(s) {
		out = append(out, s)
	}
	return out
}

// QuoteIdent quotes a possibly qualified name (schema.table) for SQL, for
// the {{placeholders}} that stand for identifiers.
func QuoteIdent(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(parts, ".")
}
