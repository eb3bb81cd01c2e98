package ingest

import (
	"fmt"
	"strings"
)

// group is a set of files of one source read by one DuckDB scan: same
// format, columns and compression.
type group struct {
	files []*inputFile
	have  map[string]string // contract column -> file column
	extra []string          // file columns the contract does not know
	cols  []string          // the file's columns, in file order
}

// rejectTables names the per-connection temp tables where DuckDB's CSV
// reader stores lines it could not parse.
func rejectTables(source string, i int) (errs, scans string) {
	return fmt.Sprintf("rej_%s_%d", source, i), fmt.Sprintf("rejscan_%s_%d", source, i)
}

// compressionOption is read_csv's compression argument for a group.
func compressionOption(g group) string {
	if len(g.files) == 0 || g.files[0].Compression == Uncompressed {
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

// rawSelect renders the scan of a group as the relation `raw`: one VARCHAR
// (or native, for Parquet) column per contract column, and _file, _line,
// _struct (why the row could not be parsed), _extra (unknown columns as
// JSON) and _raw (the row's text, for quarantine).
func rawSelect(c Contract, g group, i int) string {
	switch c.Format {
	case JSONL:
		return jsonlSelect(c, g, i)
	case Parquet:
		return parquetSelect(c, g)
	default:
		return csvSelect(c, g, i)
	}
}

func csvSelect(c Contract, g group, i int) string {
	rej, scan := rejectTables(c.Source, i)
	var colsDecl, proj, rawParts []string
	for _, fc := range g.cols {
		colsDecl = append(colsDecl, fmt.Sprintf("%s: 'VARCHAR'", lit(fc)))
		// The row's text, re-encoded with minimal quoting: for well-formed
		// files it is the line as written.
		rawParts = append(rawParts, fmt.Sprintf("csv_field(%s)", ident(fc)))
	}
	for _, col := range c.Columns {
		if fc, ok := g.have[col.Name]; ok {
			proj = append(proj, fmt.Sprintf("%s AS %s", ident(fc), ident(col.Name)))
		} else {
			proj = append(proj, fmt.Sprintf("NULL::VARCHAR AS %s", ident(col.Name)))
		}
	}
	return fmt.Sprintf(`SELECT %s,
  filename AS _file, NULL::BIGINT AS _line, NULL::VARCHAR AS _struct,
  %s AS _extra,
  concat_ws(',', %s) AS _raw
FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
  columns = {%s}, filename = true, store_rejects = true,
  rejects_table = %s, rejects_scan = %s%s)`,
		strings.Join(proj, ", "), extraJSON(g.extra), strings.Join(rawParts, ", "), fileList(g),
		strings.Join(colsDecl, ", "), lit(rej), lit(scan), compressionOption(g))
}

func jsonlSelect(c Contract, g group, i int) string {
	rej, scan := rejectTables(c.Source, i)
	var paths, proj []string
	for k, col := range c.Columns {
		paths = append(paths, lit(`$."`+col.Name+`"`))
		proj = append(proj, fmt.Sprintf("_v[%d] AS %s", k+1, ident(col.Name)))
	}
	n := len(c.Columns)
	var extras []string
	for k, e := range g.extra {
		paths = append(paths, lit(`$."`+e+`"`))
		extras = append(extras, fmt.Sprintf("%s, _v[%d]", lit(e), n+k+1))
	}
	extra := "NULL::JSON"
	if len(extras) > 0 {
		var vals []string
		for k := range g.extra {
			vals = append(vals, fmt.Sprintf("_v[%d]", n+k+1))
		}
		// NULL unless the line has one of the unknown keys.
		extra = fmt.Sprintf("CASE WHEN coalesce(%s) IS NOT NULL THEN json_object(%s) END",
			strings.Join(vals, ", "), strings.Join(extras, ", "))
	}
	// Lines are read as single-column CSV with no quoting, so DuckDB's
	// parallel reader splits the file; each line is parsed once.
	return fmt.Sprintf(`SELECT %s,
  _file, NULL::BIGINT AS _line, _struct, CASE WHEN _struct IS NULL THEN %s END AS _extra, line AS _raw
FROM (
  SELECT filename AS _file, line,
    CASE WHEN NOT json_valid(line) THEN 'invalid JSON: truncated or malformed line' END AS _struct,
    CASE WHEN json_valid(line) THEN json_extract_string(line, [%s]) END AS _v
  FROM read_csv(%s, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
    delim = '\x1e', quote = '', escape = '', filename = true, store_rejects = true,
    rejects_table = %s, rejects_scan = %s%s)
  WHERE line IS NOT NULL -- blank lines are not rows
)`, strings.Join(proj, ", "), extra, strings.Join(paths, ", "), fileList(g), lit(rej), lit(scan), compressionOption(g))
}

func parquetSelect(c Contract, g group) string {
	var proj, rawParts []string
	for _, col := range c.Columns {
		if fc, ok := g.have[col.Name]; ok {
			proj = append(proj, fmt.Sprintf("CAST(%s AS VARCHAR) AS %s", ident(fc), ident(col.Name)))
			rawParts = append(rawParts, fmt.Sprintf("%s, CAST(%s AS VARCHAR)", lit(fc), ident(fc)))
		} else {
			proj = append(proj, fmt.Sprintf("NULL::VARCHAR AS %s", ident(col.Name)))
		}
	}
	for _, e := range g.extra {
		rawParts = append(rawParts, fmt.Sprintf("%s, CAST(%s AS VARCHAR)", lit(e), ident(e)))
	}
	extra := extraJSON(g.extra)
	return fmt.Sprintf(`SELECT %s,
  filename AS _file, file_row_number + 1 AS _line, NULL::VARCHAR AS _struct, %s AS _extra,
  CAST(json_object(%s) AS VARCHAR) AS _raw
FROM read_parquet(%s, filename = true, file_row_number = true, union_by_name = true)`,
		strings.Join(proj, ", "), extra, strings.Join(rawParts, ", "), fileList(g))
}

// extraJSON keeps a row's values of columns the contract does not know,
// as a JSON object (NULL when they are all empty).
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
