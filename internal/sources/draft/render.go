package draft

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/sources"
)

// Render writes drafts as the sources: list of parcours.yaml, with their
// notes as comments.
func Render(ds []Draft) []byte {
	var b strings.Builder
	b.WriteString("# Sources drafted by `parcours sources init` from the files' first rows.\n")
	b.WriteString("# Edit what the comments point out, then: parcours sources check --date YYYY-MM-DD\n")
	b.WriteString("# Canonical fields: parcours contracts. A source named like a built-in replaces it.\n")
	b.WriteString("sources:\n")
	for i, d := range ds {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, n := range d.Notes {
			comment(&b, "  ", n)
		}
		s := d.Source
		fmt.Fprintf(&b, "  - name: %s\n", scalar(s.Name))
		if s.Preset != "" {
			fmt.Fprintf(&b, "    preset: %s\n", scalar(s.Preset))
		} else {
			fmt.Fprintf(&b, "    kind: %s\n", scalar(s.Kind))
		}
		fmt.Fprintf(&b, "    files: %s\n", scalar(s.Files))
		kv := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&b, "    %s: %s\n", k, scalar(v))
			}
		}
		kv("format", string(s.Format))
		kv("delimiter", s.Delimiter)
		kv("quote", s.Quote)
		kv("encoding", s.Encoding)
		if s.Header != nil && !*s.Header {
			b.WriteString("    header: false\n")
			var cs []string
			for _, c := range s.ColumnNames {
				cs = append(cs, scalar(c))
			}
			fmt.Fprintf(&b, "    column_names: [%s]\n", strings.Join(cs, ", "))
		}
		kv("timestamp_format", s.TimestampFormat)
		kv("date_format", s.DateFormat)
		if len(s.Columns) > 0 {
			b.WriteString("    columns:\n")
			for _, f := range fieldOrder(s) {
				fmt.Fprintf(&b, "      %s: %s\n", f, scalar(s.Columns[f]))
			}
		}
		if len(s.Values) > 0 {
			b.WriteString("    values:\n")
			for _, f := range sortedKeys(s.Values) {
				fmt.Fprintf(&b, "      %s:\n", f)
				for _, v := range sortedKeys(s.Values[f]) {
					fmt.Fprintf(&b, "        %s: %s\n", scalar(v), scalar(s.Values[f][v]))
				}
			}
		}
		kv("where", s.Where)
		if len(s.IDs) > 0 {
			b.WriteString("    ids:\n")
			for _, id := range s.IDs {
				fmt.Fprintf(&b, "      - select: %s\n        type: %s\n", scalar(id.Select), scalar(id.Type))
			}
		}
		for _, n := range d.Todo {
			comment(&b, "    ", n)
		}
	}
	return []byte(b.String())
}

// fieldOrder lists a source's mapped fields in its kind's order.
func fieldOrder(s sources.Source) []string {
	k, ok := sources.KindByName(s.Kind)
	if !ok {
		if p, ok := sources.Preset(s.Preset); ok {
			k, _ = sources.KindByName(p.Kind)
		}
	}
	var out []string
	for _, c := range k.Columns {
		if _, ok := s.Columns[c.Name]; ok {
			out = append(out, c.Name)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scalar is a string as a one-line YAML scalar, quoted when it must be:
// in double quotes (a JSON string is one), so SQL's single quotes read
// as written.
func scalar(s string) string {
	b, err := yaml.Marshal(s)
	out := strings.TrimSuffix(string(b), "\n")
	if err == nil && !strings.Contains(out, "\n") && !strings.HasPrefix(out, "'") && !strings.HasPrefix(out, "|") && !strings.HasPrefix(out, ">") {
		return out
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// comment writes a note as comment lines of at most about 100 characters.
func comment(b *strings.Builder, indent, text string) {
	line := indent + "#"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 100 && line != indent+"#" {
			b.WriteString(line + "\n")
			line = indent + "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}
