package ingest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/textfile"
)

// group is a set of files of one source read by one DuckDB scan: same
// format, columns and compression. It also holds how the source's mapping
// reads those columns: every canonical field, identifier and the row
// filter as SQL over the scan.
type group struct {
	files []*inputFile
	cols  []string // the files' columns: CSV header, Parquet schema, JSON keys seen
	extra []string // columns no mapping reads, kept aside in _extra

	fields map[string]string // canonical field -> SQL over the scan ("" when unmapped)
	ids    []string          // the source's identifiers, in order, as SQL over the scan
	where  string            // row filter as SQL over the scan ("" when none)
	paths  []jsonPath        // JSON lines: nested values the mapping reads
	json   bool              // the mapping reads the whole row as _json
	absent []absentColumn    // plain column names the mapping reads that the files lack

	// The files' columns are text. An expression that only binds with
	// numbers (total - coalesce(refunded, 0)) reads the columns whose
	// sampled values are all numbers as numbers (DOUBLE); typed holds
	// those expressions by key (columns.amount, ids[0].select, where).
	typed   map[string]bool
	numeric []string // columns read as numbers by typed expressions
	sniffed bool     // numeric is known
}

// absentColumn is a column a mapping names that the files lack.
type absentColumn struct{ key, name string }

// jsonPath is a nested JSON value a mapping reads ("properties.order_id").
type jsonPath struct{ alias, path string }

var (
	dottedPath = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_\-]*(\.[\p{L}_][\p{L}\p{N}_\-]*)+$`)
	plainName  = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_ \-]*(\.[\p{L}_][\p{L}\p{N}_\-]*)*$`)
	wordish    = regexp.MustCompile(`[\p{L}\p{N}_]+`)
	// jsonPathExpr is a JSON key or dotted path without spaces.
	jsonPathExpr = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_\-]*(\.[\p{L}_][\p{L}\p{N}_\-]*)*$`)
	optionalCol  = regexp.MustCompile(`\bcol\('((?:[^']|'')*)'\)`)
	quotedName   = regexp.MustCompile(`"((?:[^"]|"")+)"`)
)

// plan resolves the source's mapping against a group's columns. An
// expression that is a column's name (in any case) reads that column; a
// dotted path whose first part is a column reads inside it (a JSON key or
// a Parquet struct); anything else is DuckDB SQL over the columns, plus
// _json (the whole row as JSON).
func (g *group) plan(r sources.Resolved) {
	byLower := map[string]string{}
	for _, c := range g.cols {
		byLower[strings.ToLower(strings.TrimSpace(c))] = c
	}
	used := map[string]bool{}
	g.absent = nil
	// resolve gives an expression's SQL over the scan; a plain name the
	// files do not have is noted as absent (a configuration error: col()
	// reads an optional column).
	resolve := func(key, expr string) string {
		e := strings.TrimSpace(expr)
		if c, ok := byLower[strings.ToLower(e)]; ok {
			used[c] = true
			return ident(c)
		}
		// JSON lines: a name or dotted path is read from each line, whether
		// or not the sampled lines had it (keys vary from line to line).
		if r.Format == sources.JSONL && jsonPathExpr.MatchString(e) {
			alias := fmt.Sprintf("_p%d", len(g.paths))
			p := "$"
			for _, q := range strings.Split(e, ".") {
				p += `."` + q + `"`
			}
			g.paths = append(g.paths, jsonPath{alias: alias, path: p})
			if c, ok := byLower[strings.ToLower(strings.Split(e, ".")[0])]; ok {
				used[c] = true
			}
			return ident(alias)
		}
		if dottedPath.MatchString(e) {
			parts := strings.Split(e, ".")
			if root, ok := byLower[strings.ToLower(parts[0])]; ok {
				used[root] = true
				switch r.Format {
				case sources.JSONL:
					alias := fmt.Sprintf("_p%d", len(g.paths))
					p := `$."` + root + `"`
					for _, q := range parts[1:] {
						p += `."` + q + `"`
					}
					g.paths = append(g.paths, jsonPath{alias: alias, path: p})
					return ident(alias)
				case sources.Parquet:
					q := []string{ident(root)}
					for _, x := range parts[1:] {
						q = append(q, ident(x))
					}
					return strings.Join(q, ".")
				}
			}
		}
		if plainName.MatchString(e) && !strings.EqualFold(e, "null") {
			g.absent = append(g.absent, absentColumn{key: key, name: e})
			return ""
		}
		// col('Name'): the column, or NULL when the files have none.
		e = optionalCol.ReplaceAllStringFunc(e, func(m string) string {
			name := optionalCol.FindStringSubmatch(m)[1]
			if c, ok := byLower[strings.ToLower(name)]; ok {
				used[c] = true
				return ident(c)
			}
			return "NULL::VARCHAR"
		})
		// SQL: the columns it names are read.
		for _, w := range wordish.FindAllString(e, -1) {
			if c, ok := byLower[strings.ToLower(w)]; ok {
				used[c] = true
			}
		}
		for _, m := range quotedName.FindAllStringSubmatch(e, -1) {
			if c, ok := byLower[strings.ToLower(strings.ReplaceAll(m[1], `""`, `"`))]; ok {
				used[c] = true
			}
		}
		if strings.Contains(e, "_json") {
			g.json = true
		}
		return "(" + e + ")"
	}
	g.fields = map[string]string{}
	for _, f := range r.Fields() {
		if e, ok := r.Map[f]; ok {
			g.fields[f] = resolve("columns."+f, e)
			continue
		}
		if c, ok := byLower[f]; ok {
			used[c] = true
			g.fields[f] = ident(c)
			continue
		}
		g.fields[f] = ""
	}
	g.ids = nil
	for k, id := range r.IDs {
		e := resolve(fmt.Sprintf("ids[%d].select", k), id.Select)
		if e == "" {
			e = "NULL"
		}
		g.ids = append(g.ids, e)
	}
	g.where = ""
	if r.Where != "" {
		g.where = resolve("where", r.Where)
	}
	g.extra = nil
	for _, c := range g.cols {
		if !used[c] {
			g.extra = append(g.extra, c)
		}
	}
}

// missing lists the required fields the group cannot fill.
func (g *group) missing(r sources.Resolved) []string {
	var out []string
	for _, c := range r.Contract {
		if c.Required && g.fields[c.Name] == "" {
			out = append(out, c.Name)
		}
	}
	return out
}

// rejectTables names the per-connection temp tables where DuckDB's CSV
// reader stores lines it could not parse.
func rejectTables(source string, i int) (errs, scans string) {
	return fmt.Sprintf("rej_%s_%d", source, i), fmt.Sprintf("rejscan_%s_%d", source, i)
}

// compressionOption is read_csv's compression argument for a group.
func compressionOption(g group) string {
	if len(g.files) == 0 || g.files[0].Compression == textfile.None {
		return ""
	}
	return ", compression = " + lit(g.files[0].Compression)
}

func fileList(g group) string {
	paths := make([]string, len(g.files))
	for i, f := range g.files {
		paths[i] = lit(f.Path)
	}
	return "[" + strings.Join(paths, ", ") + "]"
}

// scanSelect renders the scan of a group as the relation `raw`: the files'
// columns (VARCHAR for text formats, native for Parquet), the paths and
// _json the mapping reads, and _file, _line, _struct (why a row could not
// be parsed), _extra (unread columns as JSON) and _raw (the row's text,
// for quarantine).
func scanSelect(r sources.Resolved, g group, i int) string {
	switch r.Format {
	case sources.JSONL:
		return jsonlScan(r, g, i)
	case sources.Parquet:
		return parquetScan(r, g)
	default:
		return csvScan(r, g, i)
	}
}

func csvScan(r sources.Resolved, g group, i int) string {
	rej, scan := rejectTables(r.Name, i)
	var colsDecl, proj []string
	for _, fc := range g.cols {
		colsDecl = append(colsDecl, fmt.Sprintf("%s: 'VARCHAR'", lit(fc)))
		proj = append(proj, ident(fc))
	}
	header := "true"
	if r.Header != nil && !*r.Header {
		header = "false"
	}
	jsonCol := ""
	if g.json {
		jsonCol = fmt.Sprintf("CAST(json_object(%s) AS JSON) AS _json,\n  ", pairs(g.cols))
	}
	return fmt.Sprintf(`SELECT %s,
  %sfilename AS _file, NULL::BIGINT AS _line, NULL::VARCHAR AS _struct,
  %s AS _extra,
  %s AS _raw
FROM read_csv(%s, header = %s, auto_detect = false, delim = %s, quote = %s, escape = %s,
  columns = {%s}, filename = true, store_rejects = true,
  rejects_table = %s, rejects_scan = %s%s)`,
		strings.Join(proj, ", "), jsonCol, extraJSON(g.extra), rawCarrier(r, g), fileList(g),
		header, lit(r.Delimiter), lit(r.Quote), lit(r.Escape), strings.Join(colsDecl, ", "), lit(rej), lit(scan), compressionOption(g))
}

func jsonlScan(r sources.Resolved, g group, i int) string {
	rej, scan := rejectTables(r.Name, i)
	var paths, proj []string
	for k, c := range g.cols {
		paths = append(paths, lit(`$."`+c+`"`))
		proj = append(proj, fmt.Sprintf("_v[%d] AS %s", k+1, ident(c)))
	}
	n := len(g.cols)
	for k, p := range g.paths {
		paths = append(paths, lit(p.path))
		proj = append(proj, fmt.Sprintf("_v[%d] AS %s", n+k+1, ident(p.alias)))
	}
	var extras, vals []string
	for _, e := range g.extra {
		extras = append(extras, fmt.Sprintf("%s, %s", lit(e), ident(e)))
		vals = append(vals, ident(e))
	}
	extra := "NULL::JSON"
	if len(extras) > 0 {
		// NULL unless the line has one of the unknown keys.
		extra = fmt.Sprintf("CASE WHEN _struct IS NULL AND coalesce(%s) IS NOT NULL THEN json_object(%s) END",
			strings.Join(vals, ", "), strings.Join(extras, ", "))
	}
	vlist := "NULL::VARCHAR[]"
	if len(paths) > 0 {
		vlist = fmt.Sprintf("CASE WHEN json_valid(line) THEN json_extract_string(line, [%s]) END", strings.Join(paths, ", "))
	}
	// Lines are read as single-column CSV with no quoting, so DuckDB's
	// parallel reader splits the file; each line is parsed once.
	cols := ""
	if len(proj) > 0 {
		cols = strings.Join(proj, ", ") + ",\n  "
	}
	return fmt.Sprintf(`SELECT *, %s AS _extra FROM (
SELECT %sCASE WHEN _struct IS NULL THEN CAST(line AS JSON) END AS _json,
  _file, NULL::BIGINT AS _line, _struct, line AS _raw
FROM (
  SELECT filename AS _file, line,
    CASE WHEN NOT json_valid(line) THEN 'invalid JSON: truncated or malformed line' END AS _struct,
    %s AS _v
  FROM read_csv(%s, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
    delim = '\x1e', quote = '', escape = '', filename = true, store_rejects = true,
    rejects_table = %s, rejects_scan = %s%s)
  WHERE line IS NOT NULL -- blank lines are not rows
))`, extra, cols, vlist, fileList(g), lit(rej), lit(scan), compressionOption(g))
}

func parquetScan(r sources.Resolved, g group) string {
	var proj []string
	for _, c := range g.cols {
		proj = append(proj, ident(c))
	}
	jsonCol := ""
	if g.json {
		jsonCol = fmt.Sprintf("CAST(to_json({%s}) AS JSON) AS _json,\n  ", structPairs(g.cols))
	}
	return fmt.Sprintf(`SELECT %s,
  %sfilename AS _file, file_row_number + 1 AS _line, NULL::VARCHAR AS _struct, %s AS _extra,
  %s AS _raw
FROM read_parquet(%s, filename = true, file_row_number = true, union_by_name = true)`,
		strings.Join(proj, ", "), jsonCol, extraJSON(g.extra), rawCarrier(r, g), fileList(g))
}

// rawCarrier is what a CSV or Parquet scan carries as _raw: the row's
// fields as a list (CSV), its columns as they are read as a row (Parquet).
// The row's text, for quarantine, is only rendered for the rejected rows
// (a few in a million), by rawText once the contract is checked:
// rendering every row (a regular expression per CSV field, a JSON object
// per Parquet row) was 15% of the scan of a CSV source.
func rawCarrier(r sources.Resolved, g group) string {
	if len(g.cols) == 0 {
		return "NULL::VARCHAR"
	}
	var vals []string
	for _, c := range g.cols {
		vals = append(vals, ident(c))
	}
	if r.Format == sources.Parquet {
		return "row(" + strings.Join(vals, ", ") + ")"
	}
	return "[" + strings.Join(vals, ", ") + "]"
}

// rawText renders the carried _raw as the row's text: a CSV row's
// fields re-encoded with minimal quoting (for well-formed files, the line
// as written), a Parquet row as a JSON object of its columns as text.
func rawText(r sources.Resolved, g group) string {
	if r.Format == sources.JSONL || len(g.cols) == 0 {
		return "_raw"
	}
	var parts []string
	for k, c := range g.cols {
		if r.Format == sources.Parquet {
			parts = append(parts, fmt.Sprintf("%s, CAST(struct_extract_at(_raw, %d) AS VARCHAR)", lit(c), k+1))
		} else {
			parts = append(parts, fmt.Sprintf("csv_field(_raw[%d])", k+1))
		}
	}
	if r.Format == sources.Parquet {
		return fmt.Sprintf("CAST(json_object(%s) AS VARCHAR)", strings.Join(parts, ", "))
	}
	return fmt.Sprintf("concat_ws(%s, %s)", lit(r.Delimiter), strings.Join(parts, ", "))
}

// mappedSelect renders, over `raw`, every canonical field as text (after
// the source's value maps), the source's identifiers (_id0, _id1, ...),
// and _filtered for the rows its where keeps out.
func mappedSelect(r sources.Resolved, g group) string {
	from := "raw"
	fields, ids, where := g.fields, g.ids, g.where
	if len(g.typed) > 0 {
		from, fields, ids, where = typedRelation(r, g)
	}
	var cols []string
	for _, f := range r.Fields() {
		e := fields[f]
		if e == "" {
			cols = append(cols, fmt.Sprintf("NULL::VARCHAR AS %s", ident(f)))
			continue
		}
		v := fmt.Sprintf("CAST(%s AS VARCHAR)", e)
		if m := r.Values[f]; len(m) > 0 {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var whens []string
			for _, k := range keys {
				whens = append(whens, fmt.Sprintf("WHEN %s THEN %s", lit(k), lit(m[k])))
			}
			v = fmt.Sprintf("CASE trim(%s) %s ELSE %s END", v, strings.Join(whens, " "), v)
		}
		cols = append(cols, fmt.Sprintf("%s AS %s", v, ident(f)))
	}
	for k, e := range ids {
		cols = append(cols, fmt.Sprintf("CAST(%s AS VARCHAR) AS _id%d", e, k))
	}
	filtered := "false"
	if where != "" {
		// A row the reader could not split is quarantined, never filtered.
		filtered = fmt.Sprintf("(_struct IS NULL AND NOT coalesce(%s, false))", where)
	}
	return fmt.Sprintf("SELECT %s,\n  %s AS _filtered, _file, _line, _extra, _struct, _raw\nFROM %s",
		strings.Join(cols, ",\n  "), filtered, from)
}

// typedRelation evaluates a group's expressions in two steps: those over
// text first, then, with the numeric columns read as numbers, the typed
// ones. It returns the relation and every expression as a column of it.
func typedRelation(r sources.Resolved, g group) (from string, fields map[string]string, ids []string, where string) {
	var text, typed []string
	ref := func(key, e string) string {
		if e == "" {
			return ""
		}
		if g.typed[key] {
			a := fmt.Sprintf("_y%d", len(typed))
			typed = append(typed, fmt.Sprintf("%s AS %s", e, a))
			return a
		}
		a := fmt.Sprintf("_x%d", len(text))
		text = append(text, fmt.Sprintf("%s AS %s", e, a))
		return a
	}
	fields = map[string]string{}
	for _, f := range r.Fields() {
		fields[f] = ref("columns."+f, g.fields[f])
	}
	for k, e := range g.ids {
		ids = append(ids, ref(fmt.Sprintf("ids[%d].select", k), e))
	}
	where = ref("where", g.where)
	return fmt.Sprintf("(SELECT *%s FROM (SELECT * %s FROM (SELECT *%s FROM raw)))",
		prefixed(typed), numericReplace(g.numeric), prefixed(text)), fields, ids, where
}

func prefixed(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return ", " + strings.Join(items, ", ")
}

// numericReplace reads columns as numbers (blank or not a number: NULL).
func numericReplace(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	var out []string
	for _, c := range cols {
		out = append(out, fmt.Sprintf("TRY_CAST(nullif(trim(%s), '') AS DOUBLE) AS %s", ident(c), ident(c)))
	}
	return "REPLACE (" + strings.Join(out, ", ") + ")"
}

// pairs renders json_object's arguments for columns.
func pairs(cols []string) string {
	var out []string
	for _, c := range cols {
		out = append(out, fmt.Sprintf("%s, %s", lit(c), ident(c)))
	}
	return strings.Join(out, ", ")
}

func structPairs(cols []string) string {
	var out []string
	for _, c := range cols {
		out = append(out, fmt.Sprintf("%s: %s", lit(c), ident(c)))
	}
	return strings.Join(out, ", ")
}

// extraJSON keeps a row's values of columns no mapping reads, as a JSON
// object (NULL when they are all empty).
func extraJSON(extra []string) string {
	if len(extra) == 0 {
		return "NULL::JSON"
	}
	var parts, vals []string
	for _, e := range extra {
		parts = append(parts, fmt.Sprintf("%s, CAST(%s AS VARCHAR)", lit(e), ident(e)))
		vals = append(vals, fmt.Sprintf("CAST(%s AS VARCHAR)", ident(e)))
	}
	return fmt.Sprintf("CASE WHEN coalesce(%s) IS NOT NULL THEN json_object(%s) END",
		strings.Join(vals, ", "), strings.Join(parts, ", "))
}
