package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/textfile"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/ingest"
	sqlfs "github.com/parcours/parcours/sql"
)

// limitName is the bench step of the physical limit for ingest.
const limitName = "typed glob read with dedup"

// limitTries is how many times each source's limit read runs: the fastest
// is the limit.
const limitTries = 2

// limitRead times the physical limit for ingest, source by source: what
// DuckDB needs at the least to load a source as the sources (the ones
// `parcours sources list` prints) declare it, with no contract check,
// normalisation, quarantine or bookkeeping: ONE read of all the source's
// files (a glob over the date folders; a snapshot's newest folder only, as
// ingest reads it), its columns read with their declared types, and the
// source's dedup on its key, into a table:
//
//	CREATE TABLE t AS SELECT DISTINCT ON (key) * FROM read_csv(glob, columns = {...}, ...)
//
// (an upsert keeps a key's latest delivery), with each row's file name as
// landing keeps it. The statement shapes are sections of bench.limit.sql,
// filled from the source definitions. The table is in a database file, as landing is in the
// warehouse's, with the warehouse's memory limit. Values that do not read
// as their type drop the row (ignore_errors): the limit quarantines
// nothing. It returns the step and the seconds and rows per source.
func limitRead(ctx context.Context, data, dbPath string) (measured, map[string]float64, map[string]int64, error) {
	cfg, err := config.Load("")
	if err != nil {
		return measured{}, nil, nil, err
	}
	srcs, err := sources.Effective(cfg.Sources)
	if err != nil {
		return measured{}, nil, nil, err
	}
	_ = os.Remove(dbPath)
	_ = os.Remove(dbPath + ".wal")
	// The warehouse's engine settings: its memory limit, UTC.
	q := url.Values{}
	if l := cfg.DuckDB.MemoryLimit; l != "" {
		q.Set("memory_limit", l)
	} else if l := warehouse.DefaultMemoryLimit(); l != "" {
		q.Set("memory_limit", l)
	}
	if cfg.DuckDB.Threads > 0 {
		q.Set("threads", fmt.Sprint(cfg.DuckDB.Threads))
	}
	dsn := dbPath
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return measured{}, nil, nil, err
	}
	defer func() { db.Close(); os.Remove(dbPath); os.Remove(dbPath + ".wal") }()
	db.SetMaxOpenConns(1)
	session, err := limitSection("session")
	if err != nil {
		return measured{}, nil, nil, err
	}
	if _, err := db.ExecContext(ctx, session); err != nil {
		return measured{}, nil, nil, err
	}
	count, err := limitSection("count")
	if err != nil {
		return measured{}, nil, nil, err
	}
	drop, err := limitSection("drop")
	if err != nil {
		return measured{}, nil, nil, err
	}
	per := map[string]float64{}
	perRows := map[string]int64{}
	var total time.Duration
	var rows int64
	for _, r := range srcs {
		q, err := limitQuery(r, data)
		if err != nil {
			return measured{}, nil, nil, fmt.Errorf("%s %s: %w", limitName, r.Name, err)
		}
		if q == "" {
			continue // no file
		}
		// The best of two reads: one read of the same files varied from
		// 10.7 to 32 s between bench runs on a shared 2-core machine, and
		// the limit is what the machine can do.
		var d time.Duration
		for try := range limitTries {
			if try > 0 {
				if _, err := db.ExecContext(ctx, fill(drop, "table", sqlfs.QuoteIdent(r.Name))); err != nil {
					return measured{}, nil, nil, err
				}
			}
			t0 := time.Now()
			if _, err := db.ExecContext(ctx, q); err != nil {
				return measured{}, nil, nil, fmt.Errorf("%s %s: %w\n%s", limitName, r.Name, err, q)
			}
			if t := time.Since(t0); try == 0 || t < d {
				d = t
			}
		}
		var c int64
		if err := db.QueryRowContext(ctx, fill(count, "table", sqlfs.QuoteIdent(r.Name))).Scan(&c); err != nil {
			return measured{}, nil, nil, err
		}
		per[r.Name] = d.Seconds()
		perRows[r.Name] = c
		total += d
		rows += c
	}
	return measured{name: limitName, wall: total, rows: rows, note: fmt.Sprintf("per source: one read, declared types, dedup on the key (best of %d)", limitTries)}, per, perRows, nil
}

// limitQuery is the limit's statement for a source ("" when it has no
// file): its files read into a table named after it.
func limitQuery(r sources.Resolved, data string) (string, error) {
	files, err := filepath.Glob(filepath.Join(data, "*", r.Files))
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	var dated []string
	for _, f := range files {
		if _, err := time.Parse(time.DateOnly, filepath.Base(filepath.Dir(f))); err == nil {
			dated = append(dated, f)
		}
	}
	if len(dated) == 0 {
		return "", nil
	}
	glob := filepath.Join(data, "*", r.Files)
	if r.Kind.Delivery == sources.Snapshot {
		// Ingest reads the newest folder's files of a snapshot.
		glob = filepath.Join(filepath.Dir(dated[len(dated)-1]), r.Files)
	}
	first := dated[0]
	comp, err := textfile.Compression(first)
	if err != nil {
		return "", err
	}
	cols, err := ingest.FileColumns(r, first, comp)
	if err != nil {
		return "", fmt.Errorf("%s: %w", first, err)
	}
	types, formats := declaredTypes(r, cols)
	var reader string
	switch r.Format {
	case sources.Parquet:
		reader, err = limitSection("reader_parquet", "glob", lit(glob))
	case sources.JSONL:
		reader, err = limitSection("reader_json", "glob", lit(glob), "columns", columnsDecl(cols, types), "options", formats)
	default:
		header := r.Header == nil || *r.Header
		reader, err = limitSection("reader_csv", "glob", lit(glob), "header", fmt.Sprint(header),
			"delim", lit(r.Delimiter), "quote", lit(r.Quote), "escape", lit(r.Escape), "columns", columnsDecl(cols, types), "options", formats)
	}
	if err != nil {
		return "", err
	}
	// The key as the files name it: a field mapped to a column reads that
	// column; else its expression, or its own name.
	var key []string
	for _, f := range r.DedupKey {
		e, ok := r.Map[f]
		if !ok {
			e = f
		}
		e = strings.TrimSpace(e)
		if c := findColumn(cols, e); c != "" {
			key = append(key, ident(c))
		} else if r.Format == sources.Parquet && sources.IsColumnRef(e) {
			key = append(key, ident(e))
		} else {
			key = append(key, "("+e+")")
		}
	}
	load := "load_distinct" // one row per key
	if r.Kind.Delivery == sources.Upsert {
		load = "load_upsert" // the latest delivery of a key wins
	}
	return limitSection(load, "table", sqlfs.QuoteIdent(r.Name), "reader", reader, "key", strings.Join(key, ", "))
}

// limitSection is a section of bench.limit.sql with its {{name}}
// placeholders replaced by the given name, value pairs (values quoted, or
// SQL generated from the source definitions).
func limitSection(name string, pairs ...string) (string, error) {
	set, err := loadSQL()
	if err != nil {
		return "", err
	}
	q, err := set.Section("bench.limit.sql", name)
	if err != nil {
		return "", err
	}
	return fill(q, pairs...), nil
}

// fill replaces each {{name}} of q by its value in one pass: a value
// holding a placeholder's text is left as it is.
func fill(q string, pairs ...string) string {
	var old []string
	for i := 0; i+1 < len(pairs); i += 2 {
		old = append(old, "{{"+pairs[i]+"}}", pairs[i+1])
	}
	return strings.NewReplacer(old...).Replace(q)
}

// declaredTypes gives each of the files' columns the DuckDB type of the
// canonical field it fills (a field reads the column its mapping names, or
// the column of its own name), VARCHAR for the others; and the read's
// timestamp and date format options when the source declares them.
func declaredTypes(r sources.Resolved, cols []string) ([]string, string) {
	types := make([]string, len(cols))
	for i := range types {
		types[i] = "VARCHAR"
	}
	var formats string
	for _, c := range r.Contract {
		e, ok := r.Map[c.Name]
		if !ok {
			e = c.Name
		}
		col := findColumn(cols, strings.TrimSpace(e))
		if col == "" {
			continue
		}
		t := "VARCHAR"
		switch c.Type {
		case sources.Int:
			t = "BIGINT"
		case sources.Decimal:
			t = "DECIMAL(18,2)"
		case sources.Bool:
			t = "BOOLEAN"
		case sources.Timestamp:
			t = "TIMESTAMPTZ"
			if c.Layout != "" {
				t = "TIMESTAMP" // local time in the source's layout
			}
		case sources.Date:
			t = "DATE"
		}
		for i, fc := range cols {
			if fc == col {
				types[i] = t
			}
		}
	}
	if r.TimestampFormat != "" {
		formats += ", timestampformat = " + lit(r.TimestampFormat)
	}
	if r.DateFormat != "" {
		formats += ", dateformat = " + lit(r.DateFormat)
	}
	return types, formats
}

// findColumn is the files' column an expression names (in any case), "".
func findColumn(cols []string, e string) string {
	for _, c := range cols {
		if strings.EqualFold(strings.TrimSpace(c), e) {
			return c
		}
	}
	return ""
}

func columnsDecl(cols, types []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = fmt.Sprintf("%s: %s", lit(c), lit(types[i]))
	}
	return strings.Join(out, ", ")
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func lit(s string) string { return warehouse.Quote(s) }

// largeShare is the share of the rows ingest reads that makes a source
// large: at 100k customers the six sources that hold 99% of the rows (web,
// email, app, tills, consents, CRM).
const largeShare = 0.01

// printLimit prints ingest's time per source (its "source ingested" log
// lines) against the limit's, and the totals for the large sources and
// for all: the goal is ingest within 1.5x of its limit.
func printLimit(srcs []sourceTiming, limit map[string]float64, limitRows map[string]int64, jobWall float64) {
	fmt.Printf("\ningest per source vs its limit (%s: one read of the source's files, declared types, dedup on its key; goal <= 1.5x):\n", limitName)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\tingest s\tlimit s\tratio\tscan s\tscan ratio\trows\tlimit rows\t")
	var all int64
	for _, s := range srcs {
		all += s.rows
	}
	var tot, totLimit, totScan, big, bigLimit, bigScan float64
	var bigRows, bigN int64
	for _, s := range srcs {
		b := limit[s.source]
		tot += s.seconds
		totLimit += b
		totScan += s.scan
		if all > 0 && float64(s.rows) >= largeShare*float64(all) {
			big += s.seconds
			bigLimit += b
			bigScan += s.scan
			bigRows += s.rows
			bigN++
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t%.2f\t%s\t%d\t%d\t\n", s.source, s.seconds, b, ratio(s.seconds, b), s.scan, ratio(s.scan, b), s.rows, limitRows[s.source])
	}
	fmt.Fprintf(tw, "%d large sources (>= %.0f%% of the rows)\t%.2f\t%.2f\t%s\t%.2f\t%s\t%d\t\t\n", bigN, 100*largeShare, big, bigLimit, ratio(big, bigLimit), bigScan, ratio(bigScan, bigLimit), bigRows)
	fmt.Fprintf(tw, "all sources\t%.2f\t%.2f\t%s\t%.2f\t%s\t%d\t\t\n", tot, totLimit, ratio(tot, totLimit), totScan, ratio(totScan, totLimit), all)
	tw.Flush()
	fmt.Printf("\ningest, large sources: %.2f s / limit %.2f s = %sx (goal <= 1.5x); all sources %sx; ingest job wall %.2f s / limit %.2f s = %sx\n",
		big, bigLimit, ratio(big, bigLimit), ratio(tot, totLimit), jobWall, totLimit, ratio(jobWall, totLimit))
	// The scan (the INSERT into landing with the contract's checks) is a
	// floor for ingest: the counts, dedup and keys only add to it.
	fmt.Printf("of which the scans into landing: %.2f s = %sx the limit (the large sources); the counts, dedup, landed keys and ledger after them: %.2f s\n",
		bigScan, ratio(bigScan, bigLimit), big-bigScan)
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}
