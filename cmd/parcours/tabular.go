package main

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// table is a user's tabular file read as text cells: the data scientist's
// files (`model fit`) come in many shapes, so every cell stays a string
// until the model decides what it is.
type table struct {
	path   string
	header []string
	rows   [][]string
	// line[i] is the file line of rows[i] (1-based), for error messages.
	line []int
}

// readTable reads CSV (separator sniffed among , ; tab unless given),
// whitespace-aligned text (sep "whitespace") or Parquet (.parquet, through
// DuckDB, with the statement of the command's SQL set). Without a header,
// columns are named 1, 2, 3...
func (a *app) readTable(path, sep string, header bool) (*table, error) {
	if strings.EqualFold(filepath.Ext(path), ".parquet") {
		sqls, err := a.sqlSet()
		if err != nil {
			return nil, err
		}
		return readParquet(sqls, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, orchestration.Usage("%v", err)
	}
	defer f.Close()
	t := &table{path: path}
	br := bufio.NewReader(f)
	if sep == "whitespace" {
		sc := bufio.NewScanner(br)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		n := 0
		for sc.Scan() {
			n++
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 {
				continue
			}
			if header && t.header == nil {
				t.header = fields
				continue
			}
			t.rows = append(t.rows, fields)
			t.line = append(t.line, n)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	} else {
		if sep == "" {
			peek, _ := br.Peek(4096)
			first := string(peek)
			if i := strings.IndexByte(first, '\n'); i >= 0 {
				first = first[:i]
			}
			sep = ","
			for _, s := range []string{";", "\t"} {
				if strings.Count(first, s) > strings.Count(first, sep) {
					sep = s
				}
			}
		}
		cr := csv.NewReader(br)
		cr.Comma = []rune(sep)[0]
		cr.FieldsPerRecord = -1
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			line, _ := cr.FieldPos(0)
			if header && t.header == nil {
				t.header = append([]string(nil), rec...)
				continue
			}
			t.rows = append(t.rows, append([]string(nil), rec...))
			t.line = append(t.line, line)
		}
	}
	if t.header == nil {
		width := 0
		for _, r := range t.rows {
			width = max(width, len(r))
		}
		for i := 1; i <= width; i++ {
			t.header = append(t.header, strconv.Itoa(i))
		}
	}
	for i, r := range t.rows {
		if len(r) != len(t.header) {
			return nil, fmt.Errorf("%s line %d: %d fields, the header has %d", path, t.line[i], len(r), len(t.header))
		}
	}
	return t, nil
}

func readParquet(sqls *sqlfs.Set, path string) (*table, error) {
	q, err := sqls.Section("sources.files.sql", "read_parquet")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(q, sql.Named("path", path))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	t := &table{path: path, header: cols}
	n := 0
	for rows.Next() {
		n++
		vals, err := warehouse.ScanValues(rows, len(cols))
		if err != nil {
			return nil, err
		}
		rec := make([]string, len(cols))
		for i, v := range vals {
			if v != nil {
				rec[i] = fmt.Sprint(v)
			}
		}
		t.rows = append(t.rows, rec)
		t.line = append(t.line, n) // Parquet row number
	}
	return t, rows.Err()
}

// column finds a column by name, or by 1-based position for files without
// a header; a missing one is a usage error naming it and what exists.
func (t *table) column(name, flag string) (int, error) {
	for i, h := range t.header {
		if strings.TrimSpace(h) == name {
			return i, nil
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 1 && n <= len(t.header) {
		return n - 1, nil
	}
	return 0, orchestration.Usage("%s: no column %q (columns: %s)", t.path, name, strings.Join(t.header, ", "))
}
