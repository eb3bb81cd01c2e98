// Package sources describes a company's extracts as configuration: each
// source names its files, their format, and how their columns map onto a
// kind's canonical fields (its contract), which identifiers they carry,
// how values map onto canonical ones, and which rows to keep. The files
// parcours' own generator writes are the built-in sources, written in the
// same YAML (defaults.yaml); presets describe the formats real companies
// export (Segment, GA4, Shopify, TCF consent logs).
package sources

import (
	"bytes"
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Source is one entry of `sources:`, as written.
type Source struct {
	Name   string `yaml:"name" json:"name"`
	Kind   string `yaml:"kind" json:"kind"`
	Preset string `yaml:"preset,omitempty" json:"preset,omitempty"`
	// Files is a glob matched inside each date folder.
	Files string `yaml:"files" json:"files"`
	// Format is csv, jsonl or parquet (default: from the files' extension).
	Format Format `yaml:"format,omitempty" json:"format,omitempty"`
	// CSV options.
	Delimiter   string   `yaml:"delimiter,omitempty" json:"delimiter,omitempty"`
	Quote       string   `yaml:"quote,omitempty" json:"quote,omitempty"`
	Escape      string   `yaml:"escape,omitempty" json:"escape,omitempty"`
	Header      *bool    `yaml:"header,omitempty" json:"header,omitempty"`
	ColumnNames []string `yaml:"column_names,omitempty" json:"column_names,omitempty"`
	// Encoding is utf-8 (default, a BOM is skipped), latin-1,
	// windows-1252 or utf-16 (with its BOM).
	Encoding string `yaml:"encoding,omitempty" json:"encoding,omitempty"`
	// Compression is auto (default: told by the first bytes), none, gzip or zstd.
	Compression string `yaml:"compression,omitempty" json:"compression,omitempty"`
	// OccurredAt sets the kind's time field (a column or a SQL expression).
	OccurredAt string `yaml:"occurred_at,omitempty" json:"occurred_at,omitempty"`
	// TimestampFormat and DateFormat read text timestamps and dates that are
	// not ISO 8601 (strptime layouts, such as %d/%m/%Y %H:%M), in the
	// business time zone.
	TimestampFormat string `yaml:"timestamp_format,omitempty" json:"timestamp_format,omitempty"`
	DateFormat      string `yaml:"date_format,omitempty" json:"date_format,omitempty"`
	// Columns maps canonical fields to a column of the files or a DuckDB SQL
	// expression over them. A field not listed takes the column of its own
	// name when the files have one.
	Columns map[string]string `yaml:"columns,omitempty" json:"columns,omitempty"`
	// IDs are the identifiers the rows carry, besides the kind's own.
	IDs []ID `yaml:"ids,omitempty" json:"ids,omitempty"`
	// Values map source values onto canonical ones, per field.
	Values map[string]map[string]string `yaml:"values,omitempty" json:"values,omitempty"`
	// Accepted narrows a field to a list of values (compared lower-cased).
	Accepted map[string][]string `yaml:"accepted,omitempty" json:"accepted,omitempty"`
	// Required lists fields this source must fill besides the kind's.
	Required []string `yaml:"required,omitempty" json:"required,omitempty"`
	// Where keeps the rows for which it holds (a SQL condition over the
	// files' columns); the others are counted as filtered.
	Where string `yaml:"where,omitempty" json:"where,omitempty"`
	// Key is the dedup key (canonical fields; default: the kind's).
	Key []string `yaml:"key,omitempty" json:"key,omitempty"`
	// RetentionMonths keeps this source's hot rows this long (by their
	// time), instead of privacy.retention_months of their hot table.
	RetentionMonths int `yaml:"retention_months,omitempty" json:"retention_months,omitempty"`
	// Enabled false turns a built-in source off.
	Enabled *bool  `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	Doc     string `yaml:"doc,omitempty" json:"doc,omitempty"`
}

// ID is one identifier a source carries: an expression over the files'
// columns (or a canonical field of the kind) and its type.
type ID struct {
	Select string `yaml:"select" json:"select"`
	Type   string `yaml:"type" json:"type"`
}

// On reports whether the source is enabled.
func (s Source) On() bool { return s.Enabled == nil || *s.Enabled }

//go:embed defaults.yaml
var defaultsYAML []byte

// Defaults returns the built-in sources.
func Defaults() []Source {
	out, err := Parse(defaultsYAML)
	if err != nil {
		panic(fmt.Sprintf("sources: built-in defaults.yaml: %v", err)) // embedded and tested
	}
	return out
}

// DefaultsYAML is the built-in sources' definition, as shipped.
func DefaultsYAML() []byte { return append([]byte(nil), defaultsYAML...) }

// Parse reads a document of the form "sources: [...]". Unknown keys are
// errors, naming the source.
func Parse(b []byte) ([]Source, error) {
	var doc struct {
		Sources []yaml.Node `yaml:"sources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	out := make([]Source, 0, len(doc.Sources))
	for i, n := range doc.Sources {
		s, err := DecodeNode(&n)
		if err != nil {
			return nil, fmt.Errorf("sources[%d]: %w", i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// DecodeNode decodes one source entry strictly: an unknown key is an
// error naming the source and the key.
func DecodeNode(n *yaml.Node) (Source, error) {
	var s Source
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return s, err
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		name := ""
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "name" {
					name = n.Content[i+1].Value
				}
			}
		}
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("unknown key %q (allowed: %s)", m[1], strings.Join(Keys(), ", "))
		}
		if name != "" {
			return s, fmt.Errorf("source %s: %s", name, msg)
		}
		return s, fmt.Errorf("%s", msg)
	}
	return s, nil
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type`)

// Keys lists the keys a source entry accepts.
func Keys() []string {
	return []string{"name", "kind", "preset", "files", "format", "delimiter", "quote", "escape", "header", "column_names",
		"encoding", "compression", "occurred_at", "timestamp_format", "date_format", "columns", "ids", "values", "accepted",
		"required", "where", "key", "retention_months", "enabled", "doc"}
}

var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Effective merges a user's sources into the built-in ones: an entry with
// a built-in's name replaces it, others are added; presets are applied;
// every source is validated. Errors name the source, the key and what is
// allowed.
func Effective(user []Source) ([]Resolved, error) {
	all := Defaults()
	index := map[string]int{}
	for i, s := range all {
		index[s.Name] = i
	}
	builtin := map[string]bool{}
	for _, s := range all {
		builtin[s.Name] = true
	}
	for _, u := range user {
		if i, ok := index[u.Name]; ok {
			all[i] = u
			builtin[u.Name] = false
			continue
		}
		index[u.Name] = len(all)
		all = append(all, u)
	}
	var out []Resolved
	var errs []string
	for _, s := range all {
		if !s.On() {
			continue
		}
		r, err := Resolve(s)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		r.Builtin = builtin[s.Name]
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	// Files of one folder must go to one source each.
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[i].Files == out[j].Files {
				return nil, fmt.Errorf("source %s: files %q: also the files of source %s (each file loads into one source)",
					out[j].Name, out[j].Files, out[i].Name)
			}
		}
	}
	// Load order: by kind, then name, so kinds other kinds read come first.
	order := map[string]int{}
	for i, k := range KindNames() {
		order[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		if order[out[i].Kind.Name] != order[out[j].Kind.Name] {
			return order[out[i].Kind.Name] < order[out[j].Kind.Name]
		}
		return false
	})
	return out, nil
}

// Resolved is a validated source with its kind and its full mapping.
type Resolved struct {
	Source
	Kind Kind
	// Contract is the kind's fields as this source checks them (its
	// required and accepted additions, its timestamp layout).
	Contract []Column
	Checks   []Check
	// Map gives every canonical field its expression over the files'
	// columns ("" for a field the source does not fill).
	Map map[string]string
	// AllIDs are the kind's identifiers and the source's.
	AllIDs []ID
	// DedupKey is the dedup key.
	DedupKey []string
	// Builtin marks a built-in source the configuration left as shipped.
	Builtin bool
}

// Table is the landing table the source loads into.
func (r Resolved) Table() string { return "landing." + r.Name }

// Resolve applies a source's preset and checks every key.
func Resolve(s Source) (Resolved, error) {
	var r Resolved
	bad := func(key, format string, args ...any) error {
		name := s.Name
		if name == "" {
			name = "(no name)"
		}
		return fmt.Errorf("source %s: %s: %s", name, key, fmt.Sprintf(format, args...))
	}
	if s.Preset != "" {
		p, ok := Preset(s.Preset)
		if !ok {
			return r, bad("preset", "%q is not a preset (presets: %s)", s.Preset, strings.Join(PresetNames(), ", "))
		}
		s = p.apply(s)
	}
	if !sourceName.MatchString(s.Name) {
		return r, bad("name", "%q: want lower-case letters, digits and _ (it names the landing table)", s.Name)
	}
	k, ok := KindByName(s.Kind)
	if !ok {
		return r, bad("kind", "%q is not a kind (kinds: %s)", s.Kind, strings.Join(KindNames(), ", "))
	}
	if s.Files == "" {
		return r, bad("files", "required: a file name or glob inside each date folder, such as orders_*.csv")
	}
	if strings.Contains(s.Files, "/") || strings.Contains(s.Files, "..") {
		return r, bad("files", "%q: a name or glob inside the date folder, without folders", s.Files)
	}
	if _, err := path.Match(s.Files, "x"); err != nil {
		return r, bad("files", "%q is not a valid glob: %v", s.Files, err)
	}
	if s.Format == "" {
		s.Format = formatOf(s.Files)
	}
	switch s.Format {
	case CSV, JSONL, Parquet:
	default:
		return r, bad("format", "%q: want csv, jsonl or parquet", s.Format)
	}
	if s.Format != CSV {
		for key, v := range map[string]bool{"delimiter": s.Delimiter != "", "quote": s.Quote != "", "escape": s.Escape != "",
			"header": s.Header != nil, "column_names": len(s.ColumnNames) > 0, "encoding": s.Encoding != "" && s.Format == Parquet} {
			if v {
				return r, bad(key, "a csv option, and this source's format is %s", s.Format)
			}
		}
	}
	if s.Delimiter == "" {
		s.Delimiter = ","
	}
	if s.Delimiter == `\t` {
		s.Delimiter = "\t"
	}
	if len(s.Delimiter) != 1 {
		return r, bad("delimiter", "%q: want one character", s.Delimiter)
	}
	if s.Quote == "" {
		s.Quote = `"`
	}
	if s.Escape == "" {
		s.Escape = s.Quote
	}
	if len(s.Quote) != 1 || len(s.Escape) != 1 {
		return r, bad("quote", "quote and escape are one character each")
	}
	if s.Header != nil && !*s.Header && len(s.ColumnNames) == 0 {
		return r, bad("column_names", "required with header: false (the files' column names, in order)")
	}
	switch strings.ToLower(s.Encoding) {
	case "", "utf-8", "utf8":
		s.Encoding = "utf-8"
	case "latin-1", "latin1", "iso-8859-1":
		s.Encoding = "latin-1"
	case "windows-1252", "cp1252":
		s.Encoding = "windows-1252"
	case "utf-16", "utf16":
		s.Encoding = "utf-16"
	default:
		return r, bad("encoding", "%q: want utf-8, latin-1, windows-1252 or utf-16", s.Encoding)
	}
	switch s.Compression {
	case "gz":
		s.Compression = "gzip"
	case "zst":
		s.Compression = "zstd"
	}
	switch s.Compression {
	case "", "auto", "none", "gzip", "zstd":
	default:
		return r, bad("compression", "%q: want auto, none, gzip or zstd", s.Compression)
	}
	if s.RetentionMonths < 0 {
		return r, bad("retention_months", "must be positive")
	}
	r.Map = map[string]string{}
	for field, expr := range s.Columns {
		if _, ok := k.Column(field); !ok {
			return r, bad("columns", "%q is not a field of kind %s (fields: %s)", field, k.Name, fieldNames(k))
		}
		if strings.TrimSpace(expr) == "" {
			return r, bad("columns."+field, "empty expression")
		}
		r.Map[field] = expr
	}
	if s.OccurredAt != "" {
		if k.Time == "" {
			return r, bad("occurred_at", "kind %s has no time field", k.Name)
		}
		if _, dup := s.Columns[k.Time]; dup {
			return r, bad("occurred_at", "and columns.%s both set the time field: keep one", k.Time)
		}
		r.Map[k.Time] = s.OccurredAt
	}
	for field, m := range s.Values {
		if _, ok := k.Column(field); !ok {
			return r, bad("values", "%q is not a field of kind %s (fields: %s)", field, k.Name, fieldNames(k))
		}
		if len(m) == 0 {
			return r, bad("values."+field, "empty map")
		}
	}
	required := map[string]bool{}
	for _, f := range s.Required {
		if _, ok := k.Column(f); !ok {
			return r, bad("required", "%q is not a field of kind %s (fields: %s)", f, k.Name, fieldNames(k))
		}
		required[f] = true
	}
	for f, vs := range s.Accepted {
		c, ok := k.Column(f)
		if !ok {
			return r, bad("accepted", "%q is not a field of kind %s (fields: %s)", f, k.Name, fieldNames(k))
		}
		if c.Type != Text && c.Type != Enum {
			return r, bad("accepted."+f, "only text fields take a list of values (%s is %s)", f, c.Type)
		}
		if len(vs) == 0 {
			return r, bad("accepted."+f, "empty list")
		}
	}
	for _, c := range k.Columns {
		c.Required = c.Required || required[c.Name]
		if vs, ok := s.Accepted[c.Name]; ok {
			c.Type, c.Values = Enum, vs
		}
		switch c.Type {
		case Timestamp:
			c.Layout = s.TimestampFormat
		case Date:
			c.Layout = s.DateFormat
		}
		r.Contract = append(r.Contract, c)
	}
	r.Checks = k.Checks
	r.AllIDs = append(append([]ID(nil), k.IDs...), s.IDs...)
	for i, id := range s.IDs {
		key := fmt.Sprintf("ids[%d]", i)
		if strings.TrimSpace(id.Select) == "" {
			return r, bad(key+".select", "required: the column or expression holding the identifier")
		}
		if !idType.MatchString(id.Type) {
			return r, bad(key+".type", "%q: want a type such as %s, or a name of your own (lower-case letters, digits, _)",
				id.Type, strings.Join(BuiltinIDTypes(), ", "))
		}
	}
	if k.Subject && len(s.IDs) > 0 {
		return r, bad("ids", "kind %s names its subject with subject_id and subject_type", k.Name)
	}
	r.DedupKey = k.Key
	if len(s.Key) > 0 {
		r.DedupKey = nil
		for _, f := range s.Key {
			if _, ok := k.Column(f); !ok {
				// A column of the files a field is mapped to (key: [id]
				// with order_id: id) stands for that field.
				field := ""
				for cf, e := range r.Map {
					if strings.EqualFold(strings.TrimSpace(e), f) {
						field = cf
					}
				}
				if field == "" {
					return r, bad("key", "%q is neither a field of kind %s nor a column mapped to one (fields: %s)", f, k.Name, fieldNames(k))
				}
				f = field
			}
			r.DedupKey = append(r.DedupKey, f)
		}
	}
	r.Source = s
	r.Kind = k
	return r, nil
}

var idType = regexp.MustCompile(`^[a-z][a-z0-9_]{0,30}$`)

func fieldNames(k Kind) string {
	var out []string
	for _, c := range k.Columns {
		out = append(out, c.Name)
	}
	return strings.Join(out, ", ")
}

func formatOf(glob string) Format {
	g := strings.ToLower(glob)
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		g = strings.TrimSuffix(g, ext)
	}
	switch {
	case strings.HasSuffix(g, ".jsonl"), strings.HasSuffix(g, ".ndjson"), strings.HasSuffix(g, ".json"):
		return JSONL
	case strings.HasSuffix(g, ".parquet"):
		return Parquet
	}
	return CSV
}

// Expr returns the expression of a canonical field ("" when the source
// does not fill it), the field's own name when the files have a column of
// that name and no mapping says otherwise.
func (r Resolved) Expr(field string, has func(string) (string, bool)) string {
	if e, ok := r.Map[field]; ok {
		return e
	}
	if col, ok := has(field); ok {
		return col
	}
	return ""
}

// Fields lists the kind's fields in order.
func (r Resolved) Fields() []string {
	var out []string
	for _, c := range r.Contract {
		out = append(out, c.Name)
	}
	return out
}

// IsColumnRef reports whether an expression is a plain column name (or a
// dotted path into JSON or a struct), as opposed to SQL.
func IsColumnRef(expr string) bool { return columnRef.MatchString(strings.TrimSpace(expr)) }

var columnRef = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_ \-]*(\.[\p{L}_][\p{L}\p{N}_\-]*)*$`)
