// Package tabular reads a user's tabular file (CSV with a sniffed
// separator, whitespace-aligned text, Parquet) as text cells, with each
// row's line for error messages: the input of the model-fitting commands.
package tabular

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
	sqlfs "github.com/parcours/parcours/sql"
)

// Table is a user's tabular file read as text cells: the data scientist's
// files (`model fit`) come in many shapes, so every cell stays a string
// until the model decides what it is.
type Table struct {
	Path   string
	Header []string
	Rows   [][]string
	// Line[i] is the file line of Rows[i] (1-based; the row number in a
	// Parquet file), for error messages.
	Line []int
}

// Read reads CSV (separator sniffed among , ; tab unless given),
// whitespace-aligned text (sep "whitespace") or Parquet (.parquet, through
// an in-memory DuckDB, with sources.files.sql#read_parquet of sqls).
// Without a header, columns are named 1, 2, 3... A row whose width is not
// the header's is an error naming its line.
func Read(path, sep string, header bool, sqls *sqlfs.Set) (*Table, error) {
	if strings.EqualFold(filepath.Ext(path), ".parquet") {
		return readParquet(sqls, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &Table{Path: path}
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
			if header && t.Header == nil {
				t.Header = fields
				continue
			}
			t.Rows = append(t.Rows, fields)
			t.Line = append(t.Line, n)
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
			if header && t.Header == nil {
				t.Header = append([]string(nil), rec...)
				continue
			}
			t.Rows = append(t.Rows, append([]string(nil), rec...))
			t.Line = append(t.Line, line)
		}
	}
	if t.Header == nil {
		width := 0
		for _, r := range t.Rows {
			width = max(width, len(r))
		}
		for i := 1; i <= width; i++ {
			t.Header = append(t.Header, strconv.Itoa(i))
		}
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Header) {
			return nil, fmt.Errorf("%s line %d: %d fields, the header has %d", path, t.Line[i], len(r), len(t.Header))
		}
	}
	return t, nil
}

func readParquet(sqls *sqlfs.Set, path string) (*Table, error) {
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
	t := &Table{Path: path, Header: cols}
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
		t.Rows = append(t.Rows, rec)
		t.Line = append(t.Line, n) // Parquet row number
	}
	return t, rows.Err()
}

// Column finds a column by name, or by 1-based position for files without
// a header; a missing one is an error naming it and what exists.
func (t *Table) Column(name string) (int, error) {
	for i, h := range t.Header {
		if strings.TrimSpace(h) == name {
			return i, nil
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 1 && n <= len(t.Header) {
		return n - 1, nil
	}
	return 0, fmt.Errorf("%s: no column %q (columns: %s)", t.Path, name, strings.Join(t.Header, ", "))
}
