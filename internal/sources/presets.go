package sources

import (
	"embed"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

//go:embed presets/*.yaml
var presetFS embed.FS

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	entries, _ := presetFS.ReadDir("presets")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(out)
	return out
}

// Preset returns a preset: a source definition for a standard export
// format, which a user's entry completes with name and files (and may
// override key by key).
func Preset(name string) (Source, bool) {
	b, err := presetFS.ReadFile(path.Join("presets", name+".yaml"))
	if err != nil {
		return Source{}, false
	}
	ss, err := Parse(b)
	if err != nil || len(ss) != 1 {
		panic(fmt.Sprintf("sources: preset %s: %v", name, err)) // embedded and tested
	}
	return ss[0], true
}

// PresetYAML is a preset's definition, as shipped.
func PresetYAML(name string) ([]byte, bool) {
	b, err := presetFS.ReadFile(path.Join("presets", name+".yaml"))
	return b, err == nil
}

// apply completes the preset with a user's entry: the user's keys win;
// columns, values and accepted merge field by field; the user's ids, when
// given, are added to the preset's.
func (p Source) apply(u Source) Source {
	out := p
	out.Preset = u.Preset
	out.Name = u.Name
	if u.Kind != "" {
		out.Kind = u.Kind
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&out.Files, u.Files)
	if u.Format != "" {
		out.Format = u.Format
	}
	set(&out.Delimiter, u.Delimiter)
	set(&out.Quote, u.Quote)
	set(&out.Escape, u.Escape)
	set(&out.Encoding, u.Encoding)
	set(&out.Compression, u.Compression)
	set(&out.OccurredAt, u.OccurredAt)
	set(&out.TimestampFormat, u.TimestampFormat)
	set(&out.DateFormat, u.DateFormat)
	set(&out.Where, u.Where)
	set(&out.Doc, u.Doc)
	if u.Header != nil {
		out.Header = u.Header
	}
	if len(u.ColumnNames) > 0 {
		out.ColumnNames = u.ColumnNames
	}
	if len(u.Key) > 0 {
		out.Key = u.Key
	}
	if len(u.Required) > 0 {
		out.Required = u.Required
	}
	if u.RetentionMonths != 0 {
		out.RetentionMonths = u.RetentionMonths
	}
	if u.Enabled != nil {
		out.Enabled = u.Enabled
	}
	if u.OccurredAt != "" && p.Columns != nil {
		// The user's occurred_at replaces the preset's time column.
		if k, ok := KindByName(out.Kind); ok && k.Time != "" {
			out.Columns = maps.Clone(p.Columns)
			delete(out.Columns, k.Time)
		}
	}
	out.Columns = mergeMap(out.Columns, u.Columns)
	out.Values = mergeMap(p.Values, u.Values)
	out.Accepted = mergeMap(p.Accepted, u.Accepted)
	out.IDs = append(append([]ID(nil), p.IDs...), u.IDs...)
	return out
}

func mergeMap[V any](a, b map[string]V) map[string]V {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := maps.Clone(a)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, b)
	return out
}
