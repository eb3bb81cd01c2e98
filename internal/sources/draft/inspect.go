// Package draft guesses a source from an export file, for `parcours
// sources init`: the file's format, compression, encoding and CSV dialect
// (DuckDB's sniffer), what its columns hold (emails, phones, money,
// timestamps and their layout), the kind it most looks like, and a
// mapping of its columns onto the kind's canonical fields and
// identifiers. The result is a commented YAML draft a data engineer
// edits, then checks with `parcours sources check`.
package draft

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/transform"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/textfile"
	"github.com/parcours/parcours/internal/warehouse"
)

// maxRows is how many rows a file is sampled on.
const maxRows = 1000

// Column is one column of a sampled file.
type Column struct {
	Name   string
	Values []string // the non-blank sampled values, trimmed
	Blank  int      // blank sampled values
}

// Sample is what inspecting one file found.
type Sample struct {
	Path        string
	Format      sources.Format
	Compression string
	Encoding    string
	Delimiter   string
	Quote       string
	Header      bool
	Columns     []Column
	Rows        int // rows sampled
}

// Sections is where Inspect finds its statements: the SQL set of the
// command (a *sql.Set of the sql package), so that sql_dir reaches them.
type Sections interface {
	Section(file, section string) (string, error)
}

// filesSQL holds the statements that sample a file.
const filesSQL = "sources.files.sql"

// Inspect samples a file: its first rows, read the way ingest will.
func Inspect(ctx context.Context, sqls Sections, db *sql.DB, path string) (Sample, error) {
	s := Sample{Path: path}
	comp, err := textfile.Compression(path)
	if err != nil {
		return s, err
	}
	s.Compression = comp
	head, more, err := readHead(path, comp, 4<<20)
	if err != nil {
		return s, err
	}
	s.Format = formatOf(path, head)
	switch s.Format {
	case sources.Parquet:
		if comp != textfile.None {
			return s, fmt.Errorf("is %s-compressed: Parquet files carry their own compression", comp)
		}
		return s, inspectParquet(ctx, sqls, db, &s)
	case sources.JSONL:
		s.Encoding = textfile.DetectEncoding(head)
		text, err := decode(head, s.Encoding)
		if err != nil {
			return s, err
		}
		inspectJSON(&s, jsonLines(text, more))
		return s, nil
	default:
		s.Encoding = textfile.DetectEncoding(head)
		text, err := decode(head, s.Encoding)
		if err != nil {
			return s, err
		}
		return s, inspectCSV(ctx, sqls, db, &s, text, more)
	}
}

// readHead reads up to n bytes of a file's text; more says whether the
// file goes on.
func readHead(path, comp string, n int) ([]byte, bool, error) {
	r, err := textfile.Open(path, comp)
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, int64(n)+1))
	if err != nil {
		return nil, false, err
	}
	if len(b) > n {
		return b[:n], true, nil
	}
	return b, false, nil
}

func formatOf(path string, head []byte) sources.Format {
	name := strings.ToLower(filepath.Base(path))
	for _, ext := range []string{".gz", ".gzip", ".zst", ".zstd"} {
		name = strings.TrimSuffix(name, ext)
	}
	switch {
	case strings.HasSuffix(name, ".parquet") || bytes.HasPrefix(head, []byte("PAR1")):
		return sources.Parquet
	case strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".ndjson") || strings.HasSuffix(name, ".json"):
		return sources.JSONL
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return sources.JSONL
	}
	return sources.CSV
}

// decode returns a sample as UTF-8, without a byte order mark.
func decode(b []byte, encoding string) ([]byte, error) {
	d, err := textfile.Decoder(encoding)
	if err != nil {
		return nil, err
	}
	if d != nil {
		if b, _, err = transform.Bytes(d, b); err != nil {
			return nil, fmt.Errorf("read as %s: %w", encoding, err)
		}
	}
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), nil
}

// cutLast drops a last line the sample cut short.
func cutLast(b []byte, more bool) []byte {
	if !more {
		return b
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}

func inspectCSV(ctx context.Context, sqls Sections, db *sql.DB, s *Sample, text []byte, more bool) error {
	tmp, err := os.CreateTemp("", "parcours-sniff-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(cutLast(text, more)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	var delim, quote string
	var header bool
	sniff, err := sqls.Section(filesSQL, "sniff_csv")
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, sniff, sql.Named("path", tmp.Name())).Scan(&delim, &quote, &header); err != nil {
		return fmt.Errorf("sniff: %w", err)
	}
	if quote == "" || quote == "(empty)" {
		quote = `"`
	}
	s.Delimiter, s.Quote, s.Header = delim, quote, header
	q, err := sqls.Section(filesSQL, "sample_csv")
	if err != nil {
		return err
	}
	q = strings.NewReplacer("{{path}}", warehouse.Quote(tmp.Name()), "{{delim}}", warehouse.Quote(delim), "{{quote}}", warehouse.Quote(quote),
		"{{header}}", strconv.FormatBool(header)).Replace(q)
	rows, err := db.QueryContext(ctx, q, sql.Named("limit", maxRows))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return err
	}
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i].Name = n
	}
	vals := make([]sql.NullString, len(names))
	dst := make([]any, len(names))
	for i := range vals {
		dst[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		s.Rows++
		for i, v := range vals {
			add(&cols[i], v.String)
		}
	}
	s.Columns = cols
	return rows.Err()
}

func add(c *Column, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		c.Blank++
		return
	}
	c.Values = append(c.Values, v)
}

// jsonLines returns the sample's objects.
func jsonLines(text []byte, more bool) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(cutLast(text, more)))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() && len(out) < maxRows {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var obj map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if d.Decode(&obj) == nil {
			out = append(out, obj)
		}
	}
	return out
}

// inspectJSON makes columns of the objects' keys, nested objects as
// dotted paths ("properties.order_id", as sources read them).
func inspectJSON(s *Sample, objs []map[string]any) {
	byName := map[string]*Column{}
	var order []string
	var walk func(prefix string, v any, depth int)
	walk = func(prefix string, v any, depth int) {
		if m, ok := v.(map[string]any); ok && depth < 3 {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if strings.ContainsAny(k, ". '\"") {
					continue
				}
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, m[k], depth+1)
			}
			return
		}
		c, ok := byName[prefix]
		if !ok {
			c = &Column{Name: prefix}
			byName[prefix] = c
			order = append(order, prefix)
		}
		add(c, jsonText(v))
	}
	for _, o := range objs {
		walk("", o, 0)
		s.Rows++
	}
	for _, n := range order {
		c := byName[n]
		c.Blank += s.Rows - len(c.Values) - c.Blank // absent from some lines
		s.Columns = append(s.Columns, *c)
	}
}

func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func inspectParquet(ctx context.Context, sqls Sections, db *sql.DB, s *Sample) error {
	q, err := sqls.Section(filesSQL, "sample_parquet")
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, strings.ReplaceAll(q, "{{path}}", warehouse.Quote(s.Path)), sql.Named("limit", maxRows))
	if err != nil {
		return fmt.Errorf("read parquet: %w", err)
	}
	defer rows.Close()
	var objs []map[string]any
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		var obj map[string]any
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if d.Decode(&obj) == nil {
			objs = append(objs, obj)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	inspectJSON(s, objs)
	return nil
}
