package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/text/transform"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/textfile"
)

// prepareFile settles how a file is read: its compression (told by its
// first bytes, or as the source says) and, for text in another encoding
// than UTF-8, a UTF-8 copy in the warehouse's private tmp folder, which
// the scan, the line counts and the quarantine's line numbers all read.
func (l *loader) prepareFile(f *inputFile) error {
	comp, err := textfile.Compression(f.Path)
	if err != nil {
		return err
	}
	switch l.r.Compression {
	case "none":
		comp = textfile.None
	case textfile.Gzip, textfile.Zstd:
		if comp != l.r.Compression {
			return fmt.Errorf("is not %s-compressed, as the source's compression says", l.r.Compression)
		}
	}
	if comp != textfile.None && l.r.Format == sources.Parquet {
		return fmt.Errorf("is %s-compressed: Parquet files carry their own compression, give the .parquet file as written", comp)
	}
	f.Compression = comp
	if l.r.Format == sources.Parquet || l.r.Encoding == "utf-8" {
		return nil
	}
	return l.transcode(f)
}

// transcode writes a UTF-8 copy of a file under the source's tmp folder,
// keeping its path relative to the input (the scan derives the folder
// date from it) and its line breaks (quarantine line numbers stay true).
func (l *loader) transcode(f *inputFile) error {
	dec, err := textfile.Decoder(l.r.Encoding)
	if err != nil || dec == nil {
		return err
	}
	root := l.transcodeRoot()
	dst := filepath.Join(root, filepath.FromSlash(f.Rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	in, err := textfile.Open(f.Path, f.Compression)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, transform.NewReader(in, dec)); err != nil {
		out.Close()
		return fmt.Errorf("read as %s: %w", l.r.Encoding, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	f.Path, f.Compression = dst, textfile.None
	l.input = root
	return nil
}

// transcodeRoot is the private folder of a source's UTF-8 copies.
func (l *loader) transcodeRoot() string {
	return filepath.Join(l.env.WH.Dir, "tmp", "ingest-"+l.r.Name)
}

// cleanup removes the source's UTF-8 copies.
func (l *loader) cleanup() { _ = os.RemoveAll(l.transcodeRoot()) }

// checkColumns refuses a header that names a column twice.
func checkColumns(cols []string) error {
	seen := map[string]bool{}
	for _, c := range cols {
		n := strings.ToLower(strings.TrimSpace(c))
		if seen[n] && headerName.MatchString(c) {
			return errors.New("the first row names a column twice (" + strings.Join(cols, ", ") + ")")
		}
		seen[n] = true
	}
	return nil
}

// describeColumns says what a file's first row holds, for error texts
// that end in the run ledger: its column names when it looks like a
// header (it names a field the source reads and every value has the
// shape of a name), else only its number of fields, since a file without
// a header starts with a data row, and data rows hold personal data.
func describeColumns(r sources.Resolved, cols []string) string {
	wanted := map[string]bool{}
	for _, f := range r.Fields() {
		wanted[f] = true
	}
	for _, e := range r.Map {
		wanted[strings.ToLower(strings.TrimSpace(e))] = true
	}
	for _, id := range r.IDs {
		wanted[strings.ToLower(strings.TrimSpace(id.Select))] = true
	}
	known := false
	for _, fc := range cols {
		if !headerName.MatchString(fc) {
			return fmt.Sprintf("the first row does not look like a header (%d fields)", len(cols))
		}
		if wanted[strings.ToLower(strings.TrimSpace(fc))] {
			known = true
		}
	}
	if !known {
		return fmt.Sprintf("the first row does not look like a header (%d fields, none of them a column %s reads)", len(cols), r.Name)
	}
	return "found: " + strings.Join(cols, ", ")
}

// headerName is the shape of a column name: letters first, then letters,
// digits and the punctuation exports put in names; no @, no long digit runs.
var headerName = regexp.MustCompile(`^\s*[\p{L}_][\p{L}\p{N} _.\-/()#%]{0,63}\s*$`)

// normIDs normalises the source's identifiers as they are stored (_id0,
// _id1, ...: one column each, cheaper to write than a list per row).
func (l *loader) normIDs() string {
	var out []string
	for k, id := range l.r.IDs {
		c := fmt.Sprintf("_id%d", k)
		out = append(out, fmt.Sprintf("%s AS %s", normID(id.Type, c), c))
	}
	if len(out) == 0 {
		return ""
	}
	return ", " + strings.Join(out, ", ")
}

// idsView is the identifiers a landed row carries, as the kind views show
// them (_ids): the kind's own fields (a CRM record's email, already
// normalised on load), or, for consents and requests, the subject; then
// the source's identifiers (_id0, _id1, ...).
func idsView(r sources.Resolved) string {
	var items []string
	if r.Kind.Subject {
		items = append(items, `{'type': subject_type, 'value': subject_id}`)
	}
	for _, id := range r.Kind.IDs {
		items = append(items, fmt.Sprintf(`{'type': %s, 'value': %s}`, lit(id.Type), ident(id.Select)))
	}
	for k, id := range r.IDs {
		items = append(items, fmt.Sprintf(`{'type': %s, 'value': _id%d}`, lit(id.Type), k))
	}
	if len(items) == 0 {
		return `[]::STRUCT("type" VARCHAR, "value" VARCHAR)[]`
	}
	return fmt.Sprintf("list_filter([%s], lambda x: x.value IS NOT NULL)", strings.Join(items, ", "))
}

// normID normalises an identifier as identity compares them: emails
// lower-cased (and only real ones), phones to E.164, others trimmed.
func normID(typ, v string) string {
	switch typ {
	case sources.Email:
		return fmt.Sprintf("CASE WHEN valid_email(norm_email(%s)) THEN norm_email(%s) END", v, v)
	case sources.Phone:
		return fmt.Sprintf("norm_phone(%s)", v)
	}
	return fmt.Sprintf("clean(%s)", v)
}

// checkExpressions binds every expression of the mapping against the
// files' columns before anything is loaded, so a wrong column or SQL error
// names the source and the key (a configuration error, exit 2). The
// columns are text; an expression that binds only with numbers (total -
// coalesce(refunded, 0)) reads the columns whose values are numbers as
// numbers.
func (l *loader) checkExpressions(ctx context.Context, groups []*group) error {
	for i, g := range groups {
		// The group's files share their columns: binding over the first is
		// binding over all, without setting up a scan of each.
		one := *g
		one.files = g.files[:1]
		base := fmt.Sprintf("SELECT * FROM (%s) LIMIT 0", scanSelect(l.r, one, 1000+i))
		bind := func(rel, expr string) error {
			q := fmt.Sprintf("WITH raw AS (%s) SELECT %s FROM %s", base, expr, rel)
			_, err := l.conn.ExecContext(ctx, "EXPLAIN "+q)
			return err
		}
		try := func(key, expr string) error {
			err := bind("raw", expr)
			if err == nil {
				return nil
			}
			if typeMismatch(err) && l.r.Format != sources.Parquet {
				if err := l.sniffNumeric(ctx, g, i); err != nil {
					return err
				}
				if len(g.numeric) > 0 {
					// With numbers read as numbers: bound, or the error that
					// remains (an unknown column, say) is the one to show.
					if err = bind(fmt.Sprintf("(SELECT * %s FROM raw)", numericReplace(g.numeric)), expr); err == nil {
						if g.typed == nil {
							g.typed = map[string]bool{}
						}
						g.typed[key] = true
						return nil
					}
				}
			}
			msg := strings.SplitN(err.Error(), "\n", 2)[0]
			hint := ""
			if typeMismatch(err) {
				hint = "; the files' columns are text, and read as numbers only when their values are: cast them, e.g. CAST(total AS DECIMAL(18,2))"
			}
			return &configError{fmt.Sprintf("source %s: %s: %s (the files' columns: %s)%s", l.r.Name, key, msg, strings.Join(g.cols, ", "), hint)}
		}
		var keys, exprs []string
		for _, f := range l.r.Fields() {
			if e := g.fields[f]; e != "" {
				keys, exprs = append(keys, "columns."+f), append(exprs, e)
			}
		}
		for k, e := range g.ids {
			keys, exprs = append(keys, fmt.Sprintf("ids[%d].select", k)), append(exprs, e)
		}
		if g.where != "" {
			keys, exprs = append(keys, "where"), append(exprs, g.where)
		}
		// One bind for the whole mapping (each costs a scan's set-up over
		// every file of the group); one per expression only to say which
		// fails.
		if len(exprs) == 0 || bind("raw", strings.Join(exprs, ", ")) == nil {
			continue
		}
		for i, k := range keys {
			if err := try(k, exprs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// typeMismatch reports a binder error about types (text where a number
// or a date is needed).
func typeMismatch(err error) bool {
	m := err.Error()
	return strings.Contains(m, "explicit cast") || strings.Contains(m, "No function matches")
}

// numberText is a number as exports write them: no leading zero (a
// postcode, a phone or an id with one stays text), no thousands separator.
const numberText = `[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|[+-]?\.[0-9]+`

// sniffNumeric finds the columns whose values, in the first 10,000 rows,
// are mostly numbers (or all blank): a typed expression reads the others
// in them, a stray "n/a", as NULL, so the row is quarantined if the field
// is required rather than the whole source refused.
func (l *loader) sniffNumeric(ctx context.Context, g *group, i int) error {
	if g.sniffed {
		return nil
	}
	g.sniffed = true
	if len(g.cols) == 0 {
		return nil
	}
	var sel []string
	for _, c := range g.cols {
		v := fmt.Sprintf("nullif(trim(%s), '')", ident(c))
		sel = append(sel, fmt.Sprintf("count(%s), count(*) FILTER (WHERE %s IS NOT NULL AND NOT regexp_full_match(%s, %s))", v, v, v, lit(numberText)))
	}
	q := fmt.Sprintf("WITH raw AS (%s) SELECT %s FROM (SELECT * FROM raw LIMIT 10000)", scanSelect(l.r, *g, 2000+i), strings.Join(sel, ", "))
	n := make([]int64, 2*len(g.cols)) // values, non-numbers
	dst := make([]any, len(n))
	for k := range n {
		dst[k] = &n[k]
	}
	if err := l.conn.QueryRowContext(ctx, q).Scan(dst...); err != nil {
		return fmt.Errorf("sample the columns of %s: %w", l.r.Name, err)
	}
	for k, c := range g.cols {
		if values, bad := n[2*k], n[2*k+1]; 2*bad <= values {
			g.numeric = append(g.numeric, c)
		}
	}
	return nil
}

// configError is a mapping DuckDB cannot bind: a configuration error.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }
