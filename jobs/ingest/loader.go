package ingest

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/redact"
	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/textfile"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// loader loads one source's pending files in one transaction.
type loader struct {
	env  *orchestration.Env
	conn *sql.Conn
	r    sources.Resolved
	// input is the folder the scan reads: the input folder, or the UTF-8
	// copy of a source's files in another encoding.
	input string
	files map[string]*inputFile // by path relative to input
	// scanned is the time spent reading the files into landing (the scan
	// step), apart from the counts, dedup and bookkeeping after it.
	scanned time.Duration
}

// rejected is one row bound for ops.quarantine.
type rejected struct {
	file, field, reason, raw string
	line                     int64
	// structural rows could not be split into columns, so they never
	// reached the landing table and are counted as read here.
	structural bool
}

// fileOutcome accumulates per-file counts.
type fileOutcome struct {
	f                                     *inputFile
	read, loaded, quarantined, duplicates int64
	filtered                              int64 // kept out by the source's where
	status, errText                       string
	extra                                 []string
	// late is set on a file failed after its scan (its rows removed).
	late bool
	// nulled counts values dropped from loaded rows, by reason.
	nulled map[string]int64
}

// plan is a source's pending files read up to the scan: each file's
// compression, encoding and columns, the files grouped by columns, and the
// mapping bound against them.
type plan struct {
	files    []*inputFile
	outcomes map[string]*fileOutcome
	order    []string
	groups   []*group
	fileErrs []string
}

// prepare reads the files' headers, plans the mapping over them and binds
// every expression, before anything is written: a mapping that reads a
// column the files lack, or SQL DuckDB cannot bind, is a configuration
// error naming the source and the key. Files that cannot be read fail on
// their own.
func (l *loader) prepare(ctx context.Context, files []*inputFile) (*plan, error) {
	p := &plan{files: files, outcomes: map[string]*fileOutcome{}}
	groups := map[string]*group{}
	var groupKeys []string
	l.files = map[string]*inputFile{}
	lacking := map[string]int{} // required field -> files without it
	headed := 0                 // files whose columns were read
	var lastCols []string
	for _, f := range files {
		o := &fileOutcome{f: f, status: "loaded"}
		p.outcomes[f.Rel] = o
		l.files[f.Rel] = f
		p.order = append(p.order, f.Rel)
		if f.Size == 0 {
			// Nothing to scan; recorded so it is not looked at again.
			o.status = "empty"
			continue
		}
		if err := l.prepareFile(f); err != nil {
			o.status, o.errText = "failed", err.Error()
			p.fileErrs = append(p.fileErrs, fmt.Sprintf("%s %s", f.Rel, err))
			continue
		}
		cols, err := l.columnsOf(ctx, f)
		if err == nil {
			err = checkColumns(cols)
		}
		g := &group{files: []*inputFile{f}, cols: cols}
		if err == nil {
			g.plan(l.r)
			if len(g.absent) > 0 {
				a := g.absent[0]
				return nil, &configError{fmt.Sprintf("source %s: %s: %s has no column %q (%s); col('%s') reads a column some files lack as empty, "+
					"and a literal needs quotes ('web')", l.r.Name, a.key, f.Rel, a.name, describeColumns(l.r, cols), strings.ReplaceAll(a.name, "'", "''"))}
			}
			// JSON lines none of which parse have no keys to check; each
			// line will be quarantined.
			if missing := g.missing(l.r); len(missing) > 0 && !(l.r.Format == sources.JSONL && len(cols) == 0) {
				err = fmt.Errorf("missing required column %s (%s)", strings.Join(missing, ", "), describeColumns(l.r, cols))
				for _, m := range missing {
					lacking[m]++
				}
				lastCols = cols
			}
			headed++
		}
		if err != nil {
			o.status, o.errText = "failed", err.Error()
			p.fileErrs = append(p.fileErrs, fmt.Sprintf("%s: %s", f.Rel, err))
			continue
		}
		o.extra = g.extra
		key := strings.Join(cols, "\x00")
		if l.r.Format == sources.JSONL {
			c := append([]string(nil), cols...)
			sort.Strings(c)
			key = strings.Join(c, "\x00") // JSON lines are matched by key, not position
		}
		key = f.Compression + "\x01" + key // one scan reads one compression
		if have, ok := groups[key]; ok {
			have.files = append(have.files, f)
			continue
		}
		groups[key] = g
		groupKeys = append(groupKeys, key)
	}
	// A source the configuration declares maps its files: a required
	// field none of them has, and the mapping does not name, is a gap in
	// the mapping. (A built-in source's file without it is a broken file.)
	for _, c := range l.r.Contract {
		if _, mapped := l.r.Map[c.Name]; c.Required && !mapped && !l.r.Builtin && headed > 0 && lacking[c.Name] == headed {
			return nil, &configError{fmt.Sprintf("source %s: columns.%s: required by kind %s, and no file has a column %s (%s): "+
				"map it to a column or an expression", l.r.Name, c.Name, l.r.Kind.Name, c.Name, describeColumns(l.r, lastCols))}
		}
	}
	sort.Strings(groupKeys)
	for _, k := range groupKeys {
		p.groups = append(p.groups, groups[k])
	}
	if err := l.checkExpressions(ctx, p.groups); err != nil {
		return nil, err
	}
	return p, nil
}

// load loads a planned source.
func (l *loader) load(ctx context.Context, p *plan) sourceResult {
	res := sourceResult{files: len(p.files)}
	outcomes, order := p.outcomes, p.order
	for _, rel := range order {
		if outcomes[rel].status == "empty" {
			l.env.Log.Warn().Str("source", l.r.Name).Str("file", rel).Msg("empty file (0 bytes): nothing loaded")
		}
	}
	if len(p.fileErrs) > 0 {
		res.err = fmt.Errorf("%s: %s", l.r.Name, strings.Join(p.fileErrs, "; "))
	}
	if extras := extraColumns(outcomes); len(extras) > 0 {
		l.env.Log.Warn().Str("source", l.r.Name).Strs("columns", extras).
			Msg("extract has columns the contract does not know; kept aside in _extra")
	}

	loadedGroups := p.groups
	if len(loadedGroups) > 0 {
		if err := l.loadGroups(ctx, loadedGroups, outcomes); err != nil {
			for _, g := range loadedGroups {
				for _, f := range g.files {
					o := outcomes[f.Rel]
					o.status, o.errText = "failed", err.Error()
					o.loaded, o.quarantined, o.duplicates = 0, 0, 0
				}
			}
			if res.err == nil {
				res.err = fmt.Errorf("%s: %w", l.r.Name, err)
			} else {
				res.err = fmt.Errorf("%v; %w", res.err, err)
			}
		}
	}
	// Failed files are recorded too, so `status` shows them and the next
	// run retries them; empty ones so they are not looked at again.
	if err := l.recordUnscanned(ctx, outcomes, order); err != nil && res.err == nil {
		res.err = err
	}
	var lateErrs []string // files failed while loading (counts that do not add up)
	for _, rel := range order {
		o := outcomes[rel]
		res.read += o.read
		res.loaded += o.loaded
		res.quarantined += o.quarantined
		res.duplicates += o.duplicates
		res.filtered += o.filtered
		for why, n := range o.nulled {
			if res.nulled == nil {
				res.nulled = map[string]int64{}
			}
			res.nulled[why] += n
		}
		if o.status == "rejected" && res.err == nil {
			res.err = fmt.Errorf("%s", o.errText)
		}
		if o.status == "failed" && o.late {
			lateErrs = append(lateErrs, fmt.Sprintf("%s: %s", rel, o.errText))
		}
	}
	if len(lateErrs) > 0 {
		e := fmt.Errorf("%s: %s", l.r.Name, strings.Join(lateErrs, "; "))
		if res.err != nil {
			e = fmt.Errorf("%v; %s", res.err, strings.Join(lateErrs, "; "))
		}
		res.err = e
	}
	res.scan = l.scanned
	return res
}

func extraColumns(outcomes map[string]*fileOutcome) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range outcomes {
		for _, e := range o.extra {
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (l *loader) columnsOf(ctx context.Context, f *inputFile) ([]string, error) {
	switch l.r.Format {
	case sources.JSONL:
		return jsonKeys(f.Path, f.Compression, 200)
	case sources.Parquet:
		rows, err := l.conn.QueryContext(ctx, fmt.Sprintf("SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(%s))", lit(f.Path)))
		if err != nil {
			return nil, fmt.Errorf("read parquet schema: %w", err)
		}
		defer rows.Close()
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return nil, err
			}
			cols = append(cols, c)
		}
		return cols, rows.Err()
	default:
		return csvHeader(l.r, f.Path, f.Compression)
	}
}

// loadGroups loads a source's files. Phase one replaces the files' rows
// with a fresh scan and commits; phase two moves contract violations to
// quarantine, drops re-deliveries, applies the reject threshold and records
// the files. Two transactions because deleting rows inserted by the same
// transaction makes DuckDB rewrite them at commit (measured: +60% on a 2M-row
// load); a crash between the phases leaves the files marked 'loading', so
// the next run loads them again from scratch. Snapshots are small and use a
// single transaction, so a refused snapshot keeps the previous one.
func (l *loader) loadGroups(ctx context.Context, groups []*group, outcomes map[string]*fileOutcome) (err error) {
	var rels []string
	for _, g := range groups {
		for _, f := range g.files {
			rels = append(rels, f.Rel)
		}
	}
	allRels := rels // failed files leave rels, not the ledger
	inFiles := litListRaw(rels)
	table := l.r.Table()
	// Records are counted independently of DuckDB, while it scans.
	counted := l.countRecords(groups)
	t0 := time.Now()
	step := func(name string) {
		took := time.Since(t0)
		if name == "scan" {
			l.scanned += took
		}
		l.env.Log.Debug().Str("source", l.r.Name).Str("phase", name).Dur("took", took).Msg("ingest step")
		t0 = time.Now()
	}
	inTx := false
	defer func() {
		if inTx {
			_, _ = l.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	exec := func(q string, args ...any) error {
		_, err := l.conn.ExecContext(ctx, q, args...)
		if err != nil {
			if !strings.ContainsAny(strings.TrimSpace(q), " \n") {
				return err // BEGIN, COMMIT: the statement adds nothing
			}
			return fmt.Errorf("%w\n-- in:\n%s", err, firstLines(q, 8))
		}
		return nil
	}
	begin := func() error { inTx = true; return exec("BEGIN TRANSACTION") }
	commit := func() error { inTx = false; return exec("COMMIT") }

	// Phase one.
	if err := begin(); err != nil {
		return err
	}
	if l.r.Kind.Delivery == sources.Snapshot {
		if err := exec("DELETE FROM " + table); err != nil {
			return err
		}
	} else {
		// A file loaded again while its rows still wait in landing: those
		// keys may land again. Keys of rows already consumed stay known,
		// so a re-delivery never reaches hot or cold twice.
		if l.r.Kind.Delivery == sources.Event {
			if err := exec(fmt.Sprintf(`DELETE FROM ops.landed_keys WHERE source = %s AND file IN (%s)
  AND key_hash IN (SELECT landed_key(%s) FROM %s WHERE _file IN (%s))`, lit(l.r.Name), inFiles, keyExpr(l.r.DedupKey), table, inFiles)); err != nil {
				return err
			}
		}
		if err := exec(fmt.Sprintf("DELETE FROM %s WHERE _file IN (%s)", table, inFiles)); err != nil {
			return err
		}
	}
	if err := exec(fmt.Sprintf("DELETE FROM ops.quarantine WHERE source = %s AND file IN (%s)", lit(l.r.Name), inFiles)); err != nil {
		return err
	}
	// A table that holds no other file's rows (a snapshot, a first load,
	// a night on an emptied landing) spares the dedup its search for keys
	// already there.
	var others int64
	if err := l.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&others); err != nil {
		return err
	}
	alone := others == 0
	loading := make([]*fileOutcome, len(rels))
	for i, rel := range rels {
		loading[i] = outcomes[rel]
		loading[i].status = "loading"
	}
	if err := l.recordFileRows(ctx, loading); err != nil {
		return err
	}
	load, err := l.env.WH.SQL.Section(kindFile(l.r.Kind.Name), "load")
	if err != nil {
		return err
	}
	load = strings.TrimSuffix(strings.TrimSpace(load), ";")
	prefix := l.input + string('/')
	var quarantine []rejected
	for i, g := range groups {
		if l.r.Format != sources.Parquet {
			rej, scan := rejectTables(l.r.Name, i)
			if err := exec(fmt.Sprintf("DROP TABLE IF EXISTS %s; DROP TABLE IF EXISTS %s", rej, scan)); err != nil {
				return err
			}
		}
		// _file becomes the path relative to the input folder, whose first
		// element is the folder date.
		q := fmt.Sprintf(`INSERT INTO %s BY NAME
SELECT * REPLACE (substr(_file, %d) AS _file%s),
  CAST(substr(_file, %d, 10) AS DATE) AS _load_date,
  %s AS _run_id, %s AS _source
FROM (
WITH raw AS (
%s
), mapped AS (
%s
), typed AS (
%s
)
%s
)`, table, len(prefix)+1, l.normIDs(), len(prefix)+1, lit(l.env.RunID), lit(l.r.Name),
			scanSelect(l.r, *g, i), mappedSelect(l.r, *g), checkedSelect(l.r, *g, l.window()), load)
		l.env.Log.Trace().Str("source", l.r.Name).Str("sql", q).Msg("ingest query")
		if err := exec(q); err != nil {
			return err
		}
		if l.r.Format != sources.Parquet {
			rows, err := l.structuralRejects(ctx, i, prefix)
			if err != nil {
				return err
			}
			quarantine = append(quarantine, rows...)
		}
	}
	step("scan")
	if l.r.Kind.Delivery != sources.Snapshot {
		if err := commit(); err != nil {
			return err
		}
		if err := begin(); err != nil {
			return err
		}
	}

	// Phase two. Rows read per file, before anything is moved or dropped.
	if err := l.countPerFile(ctx, fmt.Sprintf("SELECT _file, count(*) FROM %s WHERE _file IN (%s) GROUP BY _file", table, inFiles),
		outcomes, func(o *fileOutcome, n int64) { o.read += n }); err != nil {
		return err
	}
	// Rows the source's where keeps out: counted, then dropped.
	if l.r.Where != "" {
		if err := l.countPerFile(ctx, fmt.Sprintf("SELECT _file, count(*) FROM %s WHERE _filtered AND _file IN (%s) GROUP BY _file", table, inFiles),
			outcomes, func(o *fileOutcome, n int64) { o.filtered += n }); err != nil {
			return err
		}
		if err := exec(fmt.Sprintf("DELETE FROM %s WHERE _filtered AND _file IN (%s)", table, inFiles)); err != nil {
			return err
		}
	}
	step("read counts") // with the scan's commit
	bad, err := l.contractRejects(ctx, inFiles)
	if err != nil {
		return err
	}
	quarantine = append(quarantine, bad...)
	if err := exec(fmt.Sprintf("DELETE FROM %s WHERE _reasons IS NOT NULL AND _file IN (%s)", table, inFiles)); err != nil {
		return err
	}
	for _, r := range quarantine {
		if o := outcomes[r.file]; o != nil {
			o.quarantined++
			if r.structural {
				o.read++
			}
		}
	}
	step("contract rejects")
	quarantine, err = l.reconcile(ctx, counted(), quarantine, outcomes)
	if err != nil {
		return err
	}
	var failed []string
	for _, rel := range rels {
		if o := outcomes[rel]; o.status == "failed" {
			failed = append(failed, rel)
		}
	}
	if len(failed) > 0 {
		if l.r.Kind.Delivery == sources.Snapshot {
			// Keep the previous snapshot (phase one emptied the table).
			if err := exec("ROLLBACK"); err != nil {
				return err
			}
			inTx = false
			if err := begin(); err != nil {
				return err
			}
			if err := exec(fmt.Sprintf("DELETE FROM ops.quarantine WHERE source = %s AND file IN (%s)", lit(l.r.Name), inFiles)); err != nil {
				return err
			}
		} else if err := exec(fmt.Sprintf("DELETE FROM %s WHERE _file IN (%s)", table, litListRaw(failed))); err != nil {
			return err
		}
		ok := rels[:0:0]
		for _, rel := range rels {
			if outcomes[rel].status != "failed" {
				ok = append(ok, rel)
			}
		}
		rels, inFiles = ok, litListRaw(ok)
		if len(ok) == 0 {
			inFiles = "NULL"
		}
	}
	step("reconcile") // and files that failed
	if err := l.dedup(ctx, inFiles, alone, outcomes); err != nil {
		return err
	}
	step("dedup")
	if l.r.Kind.Delivery == sources.Event {
		if err := l.dropLanded(ctx, inFiles, outcomes); err != nil {
			return err
		}
		step("drop landed")
	}
	// Over the threshold, the source's rows are not loaded: the extract is
	// suspect. Its rejected rows stay in quarantine for inspection.
	var read, q int64
	for _, rel := range rels {
		read += outcomes[rel].read
		q += outcomes[rel].quarantined
	}
	threshold := l.env.Config.Ingest.RejectThreshold
	if read > 0 && float64(q)/float64(read) > threshold {
		if l.r.Kind.Delivery == sources.Snapshot {
			// Keep the previous snapshot: undo phase one, then record only
			// the quarantine and the refusal.
			if err := exec("ROLLBACK"); err != nil {
				return err
			}
			inTx = false
			if err := begin(); err != nil {
				return err
			}
			if err := exec(fmt.Sprintf("DELETE FROM ops.quarantine WHERE source = %s AND file IN (%s)", lit(l.r.Name), inFiles)); err != nil {
				return err
			}
		} else if err := exec(fmt.Sprintf("DELETE FROM %s WHERE _file IN (%s)", table, inFiles)); err != nil {
			return err
		}
		msg := fmt.Sprintf("%s: %.1f%% of %d rows rejected (threshold %.1f%%), source not loaded: %s",
			l.r.Name, 100*float64(q)/float64(read), read, 100*threshold, reasonSummary(quarantine))
		for _, rel := range rels {
			o := outcomes[rel]
			o.status, o.errText, o.loaded, o.duplicates = "rejected", msg, 0, 0
		}
	} else {
		for _, rel := range rels {
			o := outcomes[rel]
			o.status = "loaded"
			o.loaded = o.read - o.quarantined - o.duplicates - o.filtered
		}
		if err := l.countNulled(ctx, inFiles, outcomes); err != nil {
			return err
		}
		if l.r.Kind.Delivery == sources.Event {
			if err := exec(fmt.Sprintf("INSERT INTO ops.landed_keys SELECT %s, landed_key(%s), _load_date, _file FROM %s WHERE _file IN (%s)",
				lit(l.r.Name), keyExpr(l.r.DedupKey), table, inFiles)); err != nil {
				return fmt.Errorf("remember landed keys: %w", err)
			}
		}
	}
	step("landed keys")
	if err := l.insertQuarantine(ctx, quarantine); err != nil {
		return err
	}
	step("quarantine")
	if err := l.recordFiles(ctx, allRels, outcomes); err != nil {
		return err
	}
	if err := commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	step("commit")
	return nil
}

// recordCount is one file's independent count.
type recordCount struct {
	records
	err error
}

// countRecords counts the records of the groups' text files in the
// background; the returned function waits for the counts.
func (l *loader) countRecords(groups []*group) func() map[string]recordCount {
	if l.r.Format == sources.Parquet {
		return func() map[string]recordCount { return nil }
	}
	var files []*inputFile
	for _, g := range groups {
		files = append(files, g.files...)
	}
	done := make(chan map[string]recordCount, 1)
	go func() {
		out := make(map[string]recordCount, len(files))
		// One buffer for every file: a fresh 1 MiB buffer per file cost
		// 50-130 ms a source of 365 daily files, beside DuckDB's scan.
		br := bufio.NewReaderSize(nil, countBuffer)
		for _, f := range files {
			var rc recordCount
			r, err := textfile.Open(f.Path, f.Compression)
			if err == nil {
				br.Reset(r)
				rc.records, err = countRecords(br, l.r.Format, l.csvOptions())
				r.Close()
			}
			rc.err = err
			out[f.Rel] = rc
		}
		done <- out
	}()
	return func() map[string]recordCount { return <-done }
}

// reconcile checks, per text file, that the rows read add up to the
// records an independent pass counted. Rows an unclosed quote swallowed
// are quarantined one per physical line, each saying where the quote
// opened; a file whose counts still differ is failed with the two
// figures, never loaded short. It returns the quarantine to write.
func (l *loader) reconcile(ctx context.Context, counts map[string]recordCount, quarantine []rejected, outcomes map[string]*fileOutcome) ([]rejected, error) {
	if counts == nil {
		return quarantine, nil
	}
	rels := make([]string, 0, len(counts))
	for rel := range counts {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		rc, o := counts[rel], outcomes[rel]
		if o == nil {
			continue
		}
		if rc.err != nil {
			return nil, fmt.Errorf("count the records of %s: %w", rel, rc.err)
		}
		want := rc.N
		if rc.Unclosed > 0 {
			f := l.files[rel]
			r, err := textfile.Open(f.Path, f.Compression)
			if err != nil {
				return nil, err
			}
			lost, err := linesAfter(r, rc.Unclosed)
			r.Close()
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", rel, err)
			}
			// The reader's one rejected "row" at the quote holds the rest
			// of the file: keep its first line, the others come one by one.
			for i := range quarantine {
				if q := &quarantine[i]; q.file == rel && q.line == rc.Unclosed {
					q.raw, _, _ = strings.Cut(q.raw, "\n")
					q.raw = strings.TrimSuffix(q.raw, "\r")
				}
			}
			why := fmt.Sprintf("inside a quote opened on line %d that is never closed", rc.Unclosed)
			for _, pl := range lost {
				quarantine = append(quarantine, rejected{file: rel, line: pl.N, raw: pl.Text, structural: true,
					reason: fmt.Sprintf("line %d: %s", pl.N, why)})
				o.quarantined++
				o.read++
			}
			want += int64(len(lost))
			if len(lost) > 0 {
				l.env.Log.Warn().Str("source", l.r.Name).Str("file", rel).Int64("line", rc.Unclosed).Int("rows", len(lost)).
					Msg("a quote is never closed: the rows after it are quarantined one by one")
			}
		}
		if o.read == want {
			continue
		}
		o.status, o.late = "failed", true
		o.errText = fmt.Sprintf("the CSV reader returned %d rows but the file holds %d records: not loaded "+
			"(it could not follow the file's quoting or line endings; check the file near its first quarantined line)", o.read, want)
		if l.r.Format == sources.JSONL {
			o.errText = fmt.Sprintf("the reader returned %d rows but the file holds %d lines: not loaded", o.read, want)
		}
		o.read, o.loaded, o.quarantined, o.duplicates, o.filtered = want, 0, 0, 0, 0
		kept := quarantine[:0]
		for _, q := range quarantine {
			if q.file != rel {
				kept = append(kept, q)
			}
		}
		quarantine = kept
	}
	return quarantine, nil
}

// countNulled counts, per loaded file, the values dropped as invalid.
func (l *loader) countNulled(ctx context.Context, inFiles string, outcomes map[string]*fileOutcome) error {
	rows, err := l.conn.QueryContext(ctx, fmt.Sprintf(
		"SELECT _file, why, count(*) FROM (SELECT _file, unnest(string_split(_nulled, '; ')) AS why FROM %s WHERE _nulled IS NOT NULL AND _file IN (%s)) GROUP BY ALL",
		l.r.Table(), inFiles))
	if err != nil {
		return fmt.Errorf("count dropped values: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f, why string
		var n int64
		if err := rows.Scan(&f, &why, &n); err != nil {
			return err
		}
		if o := outcomes[f]; o != nil {
			if o.nulled == nil {
				o.nulled = map[string]int64{}
			}
			o.nulled[why] += n
		}
	}
	return rows.Err()
}

// csvOptions are the source's CSV settings, for the record counter.
func (l *loader) csvOptions() csvOptions {
	o := defaultCSV()
	if l.r.Format != sources.CSV {
		return o
	}
	o.delim, o.quote, o.escape = l.r.Delimiter[0], l.r.Quote[0], l.r.Escape[0]
	o.header = l.r.Header == nil || *l.r.Header
	return o
}

// window is the plausible range of event times for the run date.
func (l *loader) window() window {
	from, to := l.env.Config.Ingest.PlausibleWindow(l.env.Date)
	return window{From: from, To: to}
}

func (l *loader) countPerFile(ctx context.Context, q string, outcomes map[string]*fileOutcome, add func(*fileOutcome, int64)) error {
	rows, err := l.conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		var n int64
		if err := rows.Scan(&f, &n); err != nil {
			return err
		}
		if o := outcomes[f]; o != nil {
			add(o, n)
		}
	}
	return rows.Err()
}

// structuralRejects reads the lines DuckDB's CSV reader could not split
// into the declared columns (its line numbers are exact).
func (l *loader) structuralRejects(ctx context.Context, i int, prefix string) ([]rejected, error) {
	rej, scan := rejectTables(l.r.Name, i)
	rows, err := l.conn.QueryContext(ctx, fmt.Sprintf(`
SELECT substr(s.file_path, %d) AS file, e.line,
       string_agg(DISTINCT lower(e.error_type), ', ') AS kind,
       any_value(e.csv_line) AS raw,
       any_value(e.error_message) AS msg
FROM %s e JOIN %s s USING (scan_id, file_id)
GROUP BY ALL ORDER BY 1, 2`, len(prefix)+1, rej, scan))
	if err != nil {
		return nil, fmt.Errorf("read rejected lines: %w", err)
	}
	defer rows.Close()
	var out []rejected
	for rows.Next() {
		r := rejected{structural: true}
		var kind, msg sql.NullString
		var raw sql.NullString
		if err := rows.Scan(&r.file, &r.line, &kind, &raw, &msg); err != nil {
			return nil, err
		}
		r.raw = raw.String
		r.reason = fmt.Sprintf("line %d: %s", r.line, structuralReason(l.r.Format, kind.String, msg.String))
		out = append(out, r)
	}
	return out, rows.Err()
}

func structuralReason(f sources.Format, kind, msg string) string {
	if f == sources.JSONL {
		return "unreadable line (" + kind + ")"
	}
	msg = strings.TrimSpace(strings.Split(msg, "\n")[0])
	return kind + ": " + msg
}

// contractRejects reads the rows that broke the contract and finds their
// line numbers.
func (l *loader) contractRejects(ctx context.Context, inFiles string) ([]rejected, error) {
	rows, err := l.conn.QueryContext(ctx, fmt.Sprintf(
		"SELECT _file, coalesce(_line, 0), coalesce(_field, ''), _reasons, coalesce(_raw, '') FROM %s WHERE _reasons IS NOT NULL AND _file IN (%s)",
		l.r.Table(), inFiles))
	if err != nil {
		return nil, fmt.Errorf("read rejected rows: %w", err)
	}
	defer rows.Close()
	var out []rejected
	byFile := map[string][]int{}
	for rows.Next() {
		var r rejected
		if err := rows.Scan(&r.file, &r.line, &r.field, &r.reason, &r.raw); err != nil {
			return nil, err
		}
		if r.line == 0 {
			byFile[r.file] = append(byFile[r.file], len(out))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Each file is read on its own: as many at once as there are cores
	// (DuckDB waits meanwhile). Each writes only its own rows' lines.
	files := make([]string, 0, len(byFile))
	for file := range byFile {
		files = append(files, file)
	}
	sort.Strings(files)
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(files)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(nil, countBuffer)
			for j := range next {
				file, idx := files[j], byFile[files[j]]
				wants := make([]string, len(idx))
				for k, i := range idx {
					wants[k] = out[i].raw
				}
				comp := ""
				if f := l.files[file]; f != nil {
					comp = f.Compression
				}
				lines, err := locateLines(br, l.input+"/"+file, comp, l.r.Format, l.csvOptions(), wants)
				if err != nil {
					errs[j] = fmt.Errorf("locate rejected rows in %s: %w", file, err)
					continue
				}
				for k, i := range idx {
					out[i].line = lines[k]
				}
			}
		}()
	}
	for j := range files {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dedup drops re-delivered rows: for events the first delivery wins, for
// upserts and within a snapshot the latest. alone says the table holds
// only rows of the files being loaded.
func (l *loader) dedup(ctx context.Context, inFiles string, alone bool, outcomes map[string]*fileOutcome) error {
	key := keyExpr(l.r.DedupKey)
	order := fmt.Sprintf("CASE WHEN _file IN (%s) THEN 1 ELSE 0 END, _load_date, _file, rowid", inFiles)
	if l.r.Kind.Delivery == sources.Upsert {
		order = "_load_date DESC, _file DESC, rowid DESC"
	}
	// Keys the loaded files share with any row.
	keys := fmt.Sprintf("SELECT %[2]s FROM %[1]s\n      WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE _file IN (%[3]s))", l.r.Table(), key, inFiles)
	if alone {
		// Every row is of the loaded files: every key is, and they all
		// sort first (the same order without the test, which costs a
		// search of millions of rows).
		keys = fmt.Sprintf("SELECT %s FROM %s", key, l.r.Table())
		if l.r.Kind.Delivery != sources.Upsert {
			order = "_load_date, _file, rowid"
		}
	}
	// The doomed rows are found first, then deleted by rowid: one DELETE
	// with the window query inside was 8x slower on millions of rows.
	q := fmt.Sprintf(`
CREATE OR REPLACE TEMP TABLE dedup_doomed AS
SELECT rid, f FROM (
    SELECT rowid AS rid, _file AS f, row_number() OVER (PARTITION BY %[2]s ORDER BY %[3]s) AS rn
    FROM %[1]s
    WHERE %[2]s IN (
      %[4]s
      GROUP BY ALL HAVING count(*) > 1)
) WHERE rn > 1`, l.r.Table(), key, order, keys)
	if _, err := l.conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("find re-delivered rows: %w", err)
	}
	if _, err := l.conn.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE rowid IN (SELECT rid FROM dedup_doomed)", l.r.Table())); err != nil {
		return fmt.Errorf("drop re-delivered rows: %w", err)
	}
	// A row of an older file replaced by an upsert is not a duplicate of
	// this load: only rows of the files being loaded are counted.
	return l.countPerFile(ctx, "SELECT f, count(*) FROM dedup_doomed GROUP BY f", outcomes,
		func(o *fileOutcome, n int64) { o.duplicates += n })
}

// dropLanded drops rows whose key an earlier run already landed: landing
// is emptied once a nightly run has moved its rows to hot and cold, so
// ops.landed_keys (salted hashes of the keys) remembers what was seen.
func (l *loader) dropLanded(ctx context.Context, inFiles string, outcomes map[string]*fileOutcome) error {
	var known bool
	if err := l.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM ops.landed_keys WHERE source = ?)", l.r.Name).Scan(&known); err != nil {
		return err
	}
	if !known {
		return nil // the first load of a source (a whole catch-up) has nothing to compare with
	}
	q := fmt.Sprintf(`DELETE FROM %s WHERE _file IN (%s)
  AND landed_key(%s) IN (SELECT key_hash FROM ops.landed_keys WHERE source = %s)
RETURNING _file`, l.r.Table(), inFiles, keyExpr(l.r.DedupKey), lit(l.r.Name))
	rows, err := l.conn.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("drop rows landed by earlier runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return err
		}
		if o := outcomes[f]; o != nil {
			o.duplicates++
		}
	}
	return rows.Err()
}

func keyExpr(key []string) string {
	if len(key) == 1 {
		return ident(key[0])
	}
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = fmt.Sprintf("CAST(%s AS VARCHAR)", ident(k))
	}
	return "concat_ws(chr(31), " + strings.Join(parts, ", ") + ")"
}

// insertQuarantine writes rejected rows to ops.quarantine: appended to a
// temp table, then moved in one statement (which numbers them and gives
// each its folder date). Bound parameters cost ~200 µs a row: seconds on
// a catch-up's tens of thousands of rejected rows.
func (l *loader) insertQuarantine(ctx context.Context, rs []rejected) error {
	if len(rs) == 0 {
		return nil
	}
	if _, err := l.conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE quarantine_stage
(n BIGINT, source VARCHAR, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR, raw VARCHAR, run_id VARCHAR)`); err != nil {
		return fmt.Errorf("write quarantine: %w", err)
	}
	err := l.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "quarantine_stage")
		if err != nil {
			return err
		}
		for i, r := range rs {
			var line, field any
			if r.line > 0 {
				line = r.line
			}
			if r.field != "" {
				field = r.field
			}
			if err := app.AppendRow(int64(i), l.r.Name, r.file, line, field, r.reason, r.raw, l.env.RunID); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err == nil {
		_, err = l.conn.ExecContext(ctx, `INSERT INTO ops.quarantine (source, file, line, field, reason, raw, load_date, run_id)
SELECT source, file, line, field, reason, raw, CAST(regexp_extract(file, '([0-9]{4}-[0-9]{2}-[0-9]{2})[/\\][^/\\]+$', 1) AS DATE), run_id
FROM quarantine_stage ORDER BY n`)
	}
	if _, derr := l.conn.ExecContext(ctx, "DROP TABLE IF EXISTS quarantine_stage"); derr != nil && err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("write quarantine: %w", err)
	}
	return nil
}

func (l *loader) recordFiles(ctx context.Context, rels []string, outcomes map[string]*fileOutcome) error {
	outs := make([]*fileOutcome, len(rels))
	for i, rel := range rels {
		outs[i] = outcomes[rel]
	}
	if err := l.recordFileRows(ctx, outs); err != nil {
		return err
	}
	if l.r.Kind.Delivery == sources.Snapshot {
		_, err := l.conn.ExecContext(ctx, fmt.Sprintf(
			"UPDATE ops.ingest_files SET status = 'superseded' WHERE source = %s AND status = 'loaded' AND file NOT IN (%s)",
			lit(l.r.Name), litListRaw(rels)))
		return err
	}
	return nil
}

func (l *loader) recordUnscanned(ctx context.Context, outcomes map[string]*fileOutcome, order []string) error {
	var rows []*fileOutcome
	for _, rel := range order {
		if o := outcomes[rel]; o.status == "failed" || o.status == "empty" {
			rows = append(rows, o)
		}
	}
	return l.recordFileRows(ctx, rows)
}

// recordFileRows upserts files into ops.ingest_files: appended to a temp
// table, then moved in one statement (ops.ingest_files.sql stage, record).
// Bound parameters cost ~0.25 ms a row, 0.2 s a source over a year of
// daily folders; the appender 10 ms.
func (l *loader) recordFileRows(ctx context.Context, outs []*fileOutcome) error {
	if len(outs) == 0 {
		return nil
	}
	wh := l.env.WH
	if _, err := wh.Run(ctx, l.conn, sqlfs.Ref{File: "ops.ingest_files.sql", Section: "stage"}); err != nil {
		return fmt.Errorf("record %s files: %w", l.r.Name, err)
	}
	err := l.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "ingest_files_stage")
		if err != nil {
			return err
		}
		for i, o := range outs {
			var errText, nulled, extra any
			if o.errText != "" {
				errText = redact.Text(o.errText)
			}
			if len(o.nulled) > 0 {
				b, _ := json.Marshal(o.nulled)
				nulled = string(b)
			}
			if len(o.extra) > 0 {
				extra = o.extra
			}
			if err := app.AppendRow(int64(i), l.r.Name, o.f.Rel, o.f.Folder, o.f.Size, o.f.MTime, o.status, o.read, o.loaded,
				o.quarantined, o.duplicates, o.filtered, extra, errText, nulled, l.env.RunID); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err == nil {
		_, err = wh.Run(ctx, l.conn, sqlfs.Ref{File: "ops.ingest_files.sql", Section: "record"})
	}
	if err != nil {
		return fmt.Errorf("record %s files in ops.ingest_files: %w", l.r.Name, err)
	}
	return nil
}

// reasonSummary counts rejected rows by file and kind of reason, for the
// error message of a source over its threshold.
func reasonSummary(rs []rejected) string {
	counts := map[string]int{}
	for _, r := range rs {
		k := r.reason
		if i := strings.Index(k, ": '"); i > 0 {
			k = k[:i]
		}
		if strings.HasPrefix(k, "line ") {
			if _, rest, ok := strings.Cut(k, ": "); ok {
				k = rest
			}
		}
		counts[r.file+": "+k]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return counts[keys[i]] > counts[keys[j]] || (counts[keys[i]] == counts[keys[j]] && keys[i] < keys[j])
	})
	if len(keys) > 8 {
		keys = keys[:8]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d)", k, counts[k])
	}
	return strings.Join(parts, "; ")
}

func litListRaw(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = lit(v)
	}
	return strings.Join(out, ", ")
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}
