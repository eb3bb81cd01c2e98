package sql

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	createTemp = regexp.MustCompile(`(?i)CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)`)
	cteName    = regexp.MustCompile(`(?i)([A-Za-z_][A-Za-z0-9_]*)\s+AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\(`)
	wordRe     = regexp.MustCompile(`[$.]?[A-Za-z_][A-Za-z0-9_]*`)
)

// A TEMP table lives on one connection across sections, which the reader
// of a section cannot see: every section that builds or reads one says
// so on a header line "-- temp: builds a, b; reads c", and only those.
func TestTempTablesDeclared(t *testing.T) {
	set, err := Parse(FS())
	if err != nil {
		t.Fatal(err)
	}
	type sec struct {
		ref          Ref
		header, body string
	}
	var secs []sec
	temps := map[string]bool{}
	for _, r := range set.All() {
		text, _ := set.Text(r)
		var header, body []string
		inHeader := true
		for _, l := range strings.Split(text, "\n") {
			trimmed := strings.TrimSpace(l)
			if inHeader && strings.HasPrefix(trimmed, "--") {
				header = append(header, trimmed)
				continue
			}
			inHeader = false
			if i := strings.Index(l, "--"); i >= 0 {
				l = l[:i]
			}
			body = append(body, l)
		}
		s := sec{r, strings.Join(header, "\n"), strings.Join(body, "\n")}
		for _, m := range createTemp.FindAllStringSubmatch(s.body, -1) {
			temps[strings.ToLower(m[1])] = true
		}
		secs = append(secs, s)
	}
	if len(temps) < 20 {
		t.Fatalf("found %d TEMP tables: the scan is broken", len(temps))
	}
	for _, s := range secs {
		builds, reads := map[string]bool{}, map[string]bool{}
		for _, m := range createTemp.FindAllStringSubmatch(s.body, -1) {
			builds[strings.ToLower(m[1])] = true
		}
		ctes := map[string]bool{}
		for _, m := range cteName.FindAllStringSubmatch(s.body, -1) {
			ctes[strings.ToLower(m[1])] = true
		}
		prev := ""
		for _, tok := range wordRe.FindAllString(s.body, -1) {
			low := strings.ToLower(tok)
			if temps[low] && !builds[low] && !ctes[low] && prev != "as" {
				reads[low] = true
			}
			prev = low
		}
		want := tempLine(builds, reads)
		var got string
		for _, l := range strings.Split(s.header, "\n") {
			if strings.HasPrefix(l, "-- temp:") {
				got = l
			}
		}
		if got != want {
			if want == "" {
				t.Errorf("sql/%s section %s: no TEMP table here, drop %q", s.ref.File, s.ref.Section, got)
			} else {
				t.Errorf("sql/%s section %s: header should say %q (has %q)", s.ref.File, s.ref.Section, want, got)
			}
		}
	}
}

// tempLine is the header line for what a section builds and reads.
func tempLine(builds, reads map[string]bool) string {
	list := func(m map[string]bool) string {
		var out []string
		for n := range m {
			out = append(out, n)
		}
		sort.Strings(out)
		return strings.Join(out, ", ")
	}
	var parts []string
	if len(builds) > 0 {
		parts = append(parts, "builds "+list(builds))
	}
	if len(reads) > 0 {
		parts = append(parts, "reads "+list(reads))
	}
	if len(parts) == 0 {
		return ""
	}
	return "-- temp: " + strings.Join(parts, "; ")
}
