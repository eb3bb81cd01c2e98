package config

import (
	_ "embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// source is this package's declaration of the configuration: the
// reference reads each key's description from its field's doc comment,
// so a key is documented once, where it is declared.
//
//go:embed config.go
var source string

// Key is one configuration key of the reference.
type Key struct {
	// Path is the key as written in parcours.yaml, dotted; a list's
	// element keys read activation.destinations[].name.
	Path string `json:"key"`
	// Type is int, number, bool, string, a list or a map of them.
	Type string `json:"type"`
	// Default is the value when nothing sets the key, in YAML flow style
	// ("" for an empty string; list elements have none).
	Default string `json:"default,omitempty"`
	// Env is the environment variable that overrides the file, if any.
	Env string `json:"env,omitempty"`
	// Doc is the field's doc comment, its Go names replaced by keys.
	Doc string `json:"doc"`
}

// envOverride is a key an environment variable sets after the file.
type envOverride struct {
	env, key string
	field    func(*Config) *string
}

// envOverrides lists them, in the order Load applies them.
func envOverrides() []envOverride {
	return []envOverride{
		{"PARCOURS_WAREHOUSE", "warehouse", func(c *Config) *string { return &c.Warehouse }},
		{"PARCOURS_INPUT", "input", func(c *Config) *string { return &c.Input }},
		{"PARCOURS_EXPORT_DIR", "export_dir", func(c *Config) *string { return &c.ExportDir }},
	}
}

// Reference lists every configuration key in declaration order, with its
// type, default, environment override and description.
func Reference() ([]Key, error) {
	docs, err := fieldDocs("config.go", source)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, o := range envOverrides() {
		env[o.key] = o.env
	}
	var out []Key
	var walk func(t reflect.Type, v reflect.Value, prefix string)
	walk = func(t reflect.Type, v reflect.Value, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			path := prefix + name
			doc := docs[t.Name()+"."+f.Name]
			if doc == "" && f.Type.Kind() == reflect.Struct {
				doc = docs[f.Type.Name()]
			}
			k := Key{Path: path, Type: typeName(f.Type), Env: env[path], Doc: doc}
			if v.IsValid() {
				k.Default = flow(v.Field(i))
			}
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, v.Field(i), path+".")
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct && f.Type.Elem().PkgPath() == t.PkgPath():
				out = append(out, k)
				walk(f.Type.Elem(), reflect.Value{}, path+"[].")
			default:
				out = append(out, k)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), reflect.ValueOf(Default()), "")
	return out, nil
}

// WriteReference prints the reference as Markdown: one table per top-level
// section (the top-level scalars first).
func WriteReference(w io.Writer) error {
	keys, err := Reference()
	if err != nil {
		return err
	}
	var order []string
	groups := map[string][]Key{}
	for _, k := range keys {
		g, _, nested := strings.Cut(k.Path, ".")
		if !nested {
			g = ""
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], k)
	}
	if i := slices.Index(order, ""); i > 0 {
		order = append([]string{""}, slices.Delete(order, i, i+1)...)
	}
	for i, g := range order {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := "Top level"
		if g != "" {
			title = "`" + g + "`"
		}
		WriteKeys(w, title, groups[g])
	}
	return nil
}

// StructKeys lists the keys of a struct declared outside this package (a
// connector's options) the way Reference lists the configuration's: src
// is the Go source declaring v's type, whose field comments describe the
// keys; v's non-zero values are the defaults (a zero value shows none:
// the comment says what an unset key means).
func StructKeys(name, src string, v any) ([]Key, error) {
	docs, err := fieldDocs(name, src)
	if err != nil {
		return nil, err
	}
	rv := reflect.Indirect(reflect.ValueOf(v))
	t := rv.Type()
	var out []Key
	for i := range t.NumField() {
		f := t.Field(i)
		if name := yamlName(f); name != "" {
			k := Key{Path: name, Type: typeName(f.Type), Doc: docs[t.Name()+"."+f.Name]}
			if !rv.Field(i).IsZero() {
				k.Default = flow(rv.Field(i))
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// WriteKeys prints one table of keys under a level-3 title.
func WriteKeys(w io.Writer, title string, keys []Key) {
	esc := strings.NewReplacer("|", `\|`, "\n", " ")
	fmt.Fprintf(w, "### %s\n\n| key | type | default | what it sets |\n| --- | --- | --- | --- |\n", title)
	prev := ""
	for _, k := range keys {
		def := ""
		if k.Default != "" {
			def = "`" + esc.Replace(k.Default) + "`"
		}
		doc := esc.Replace(k.Doc)
		if doc != "" && doc == prev {
			doc = "(with the key above)"
		} else {
			prev = doc
		}
		if k.Env != "" {
			doc += " Environment: `" + k.Env + "`."
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", k.Path, k.Type, def, doc)
	}
}

// fieldDocs reads the doc comments of this package's struct fields
// ("Type.Field") and types ("Type"), the Go names of a struct's fields
// written as their keys. A field without a comment of its own shares the
// one of the field on the line just above it: one comment describes a
// group of fields written together.
func fieldDocs(name, src string) (map[string]string, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("config reference: %w", err)
	}
	docs := map[string]string{}
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			if gd.Doc != nil {
				docs[ts.Name.Name] = clean(gd.Doc.Text())
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			keys := map[string]string{}
			for _, f := range st.Fields.List {
				if f.Tag == nil {
					continue
				}
				k, _, _ := strings.Cut(reflect.StructTag(strings.Trim(f.Tag.Value, "`")).Get("yaml"), ",")
				for _, n := range f.Names {
					keys[n.Name] = k
				}
			}
			prev, prevLine := "", -1
			for _, f := range st.Fields.List {
				doc := ""
				if f.Doc != nil {
					doc = rename(clean(f.Doc.Text()), keys)
				} else if fset.Position(f.Pos()).Line == prevLine+1 {
					doc = prev
				}
				for _, n := range f.Names {
					docs[ts.Name.Name+"."+n.Name] = doc
				}
				prev, prevLine = doc, fset.Position(f.End()).Line
			}
		}
	}
	return docs, nil
}

func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

var (
	goName    = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*\b`)
	camelCase = regexp.MustCompile(`[a-z0-9][A-Z]|[A-Z]{2}[a-z]`)
)

// rename writes the struct's Go field names a comment mentions as their
// keys: the comment's subject, and names no word could be (FrequencyCap,
// not Format or URL mid-sentence).
func rename(doc string, keys map[string]string) string {
	first := true
	return goName.ReplaceAllStringFunc(doc, func(w string) string {
		subject := first && strings.HasPrefix(doc, w)
		first = false
		if k, ok := keys[w]; ok && k != "" && (subject || camelCase.MatchString(w)) {
			return "`" + k + "`"
		}
		return w
	})
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "int"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "list"
		}
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		return "map of " + typeName(t.Elem())
	case reflect.Struct:
		return "section"
	}
	return t.Kind().String()
}

// flow renders a default value in YAML flow style, maps sorted by key.
func flow(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case reflect.Slice:
		var parts []string
		for i := range v.Len() {
			parts = append(parts, flow(v.Index(i)))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		var parts []string
		for _, k := range keys {
			parts = append(parts, k.String()+": "+flow(v.MapIndex(k)))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case reflect.Struct:
		return ""
	}
	return fmt.Sprint(v.Interface())
}
