// Package ingest is the ingest job: it loads each day's extracts into the
// landing schema through DuckDB's own readers, as the configured sources
// describe them (internal/sources): each source maps its files' columns
// onto its kind's canonical fields, every row is checked against that
// contract, what breaks it is quarantined (with file, line and reason),
// identifiers and time are normalised, and each event loads once whatever
// the number of re-deliveries. Files no source matches are reported.
//
// Its SQL is the one exception to "every statement lives in sql/": each
// source's landing table, reader, contract checks, dedup and slicing are
// generated here from the source definitions (table, columns, key, reader
// options), so the statements are assembled in Go; what every source
// shares is in sql/ (the kind.*.sql files). TestNoSQLInGo in the sql
// package skips this package for that reason alone.
package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is the ingest job.
type Job struct {
	only map[string]bool // load only these sources (nil: all)
}

// New returns the ingest job.
func New() *Job { return &Job{} }

// Only returns an ingest job that loads only the named sources (the others'
// files still count as matched). It is how `parcours sources check` runs
// the real loader on one source.
func Only(names ...string) *Job {
	j := &Job{only: map[string]bool{}}
	for _, n := range names {
		j.only[n] = true
	}
	return j
}

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	refs := sqlRefs()
	for _, k := range sources.KindNames() {
		// every kind's landing columns and typed load ("also" and "ids"
		// are optional: a kind without identifiers has no "ids")
		refs = append(refs, sqlfs.Refs(kindFile(k), "columns", "load")...)
	}
	return orchestration.Spec{Name: "ingest", SQL: refs,
		Doc: "load the extracts of the date (and any earlier folder not yet loaded) into landing as the sources describe them, quarantining rows that break their contract"}
}

// fileState is what ops.ingest_files remembers of a file.
type fileState struct {
	size   int64
	mtime  time.Time
	status string
}

// sourceResult is the outcome of loading one source.
type sourceResult struct {
	read, loaded, quarantined, duplicates, filtered int64
	files                                           int
	scan                                            time.Duration // of which reading the files into landing
	err                                             error
	nulled                                          map[string]int64 // values dropped as invalid, by reason
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var counts orchestration.Counts
	srcs, err := sources.Effective(env.Config.Sources)
	if err != nil {
		return counts, orchestration.Usage("%v", err)
	}
	for name := range j.only {
		if !slices.ContainsFunc(srcs, func(r sources.Resolved) bool { return r.Name == name }) {
			return counts, orchestration.Usage("no source %q (sources: %s)", name, strings.Join(names(srcs), ", "))
		}
	}
	if env.Shard.Sharded() {
		return slice(ctx, env, srcs)
	}
	input := filepath.Clean(env.Config.Input)
	all, err := folders(input)
	if err != nil {
		return counts, orchestration.Usage("%v", err)
	}
	hasToday := false
	var dates []time.Time
	for _, d := range all {
		if d.After(env.Date) {
			continue
		}
		if d.Equal(env.Date) {
			hasToday = true
		}
		if env.Config.Ingest.CatchUp || d.Equal(env.Date) {
			dates = append(dates, d)
		}
	}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return counts, err
	}
	defer conn.Close()
	// Tables and views first, even on a night with nothing to load: later
	// jobs read the kind views as this version defines them.
	t0 := time.Now()
	if err := prepare(ctx, conn, env.WH.SQL, srcs); err != nil {
		return counts, err
	}
	env.Log.Debug().Dur("took", time.Since(t0)).Msg("tables and views prepared")
	if !hasToday {
		return counts, fmt.Errorf("%w: no extract folder %s/%s", orchestration.ErrNothingToDo, input, env.DateString())
	}
	state, err := loadState(ctx, conn)
	if err != nil {
		return counts, err
	}
	listing := map[time.Time][]*inputFile{}
	for _, d := range dates {
		if listing[d], err = listFolder(input, d); err != nil {
			return counts, fmt.Errorf("input folder %s: %w", d.Format(time.DateOnly), err)
		}
	}
	counts.Detail = map[string]int64{}
	if err := oneSourceEach(srcs, dates, listing); err != nil {
		return counts, err
	}
	var failures []string
	unmatched, err := recordUnmatched(ctx, env, conn, srcs, dates, listing, state)
	if err != nil {
		return counts, err
	}
	if unmatched > 0 {
		counts.Detail["unmatched_files"] = int64(unmatched)
		if env.Config.Ingest.Unmatched == "error" {
			failures = append(failures, fmt.Sprintf("%d file(s) match no source (ingest.unmatched: error); see ops.ingest_files", unmatched))
		}
	}
	// Every source's mapping is checked against its files before any is
	// loaded: a configuration error loads nothing.
	type planned struct {
		l *loader
		p *plan
	}
	var plans []planned
	tPlan := time.Now()
	defer func() {
		for _, x := range plans {
			x.l.cleanup()
		}
	}()
	for _, r := range srcs {
		if j.only != nil && !j.only[r.Name] {
			continue
		}
		files := pending(r, dates, listing, state)
		if len(files) == 0 {
			continue
		}
		l := &loader{env: env, conn: conn, r: r, input: input}
		p, err := l.prepare(ctx, files)
		if err != nil {
			l.cleanup()
			var cfgErr *configError
			if errors.As(err, &cfgErr) {
				return counts, orchestration.Usage("%v", cfgErr)
			}
			return counts, fmt.Errorf("%s: %w", r.Name, err)
		}
		plans = append(plans, planned{l, p})
	}
	env.Log.Debug().Int("sources", len(plans)).Dur("took", time.Since(tPlan)).Msg("sources planned")
	for _, x := range plans {
		l, r := x.l, x.l.r
		t0 := time.Now()
		res := l.load(ctx, x.p)
		l.cleanup()
		counts.In += res.read
		counts.Out += res.loaded
		counts.Detail[r.Name+".loaded"] = res.loaded
		counts.Detail[r.Name+".quarantined"] = res.quarantined
		counts.Detail[r.Name+".duplicates"] = res.duplicates
		if res.filtered > 0 {
			counts.Detail[r.Name+".filtered"] = res.filtered
		}
		if len(res.nulled) > 0 {
			var n int64
			reasons := make([]string, 0, len(res.nulled))
			for why, k := range res.nulled {
				n += k
				reasons = append(reasons, fmt.Sprintf("%s (%d)", why, k))
			}
			sort.Strings(reasons)
			counts.Detail[r.Name+".nulled"] = n
			env.Log.Warn().Str("source", r.Name).Int64("values", n).Strs("reasons", reasons).
				Msg("invalid values dropped from loaded rows (the rows are kept)")
		}
		ev := env.Log.Info()
		if res.err != nil {
			ev = env.Log.Error().Err(res.err)
			failures = append(failures, res.err.Error())
		}
		ev.Str("source", r.Name).Str("kind", r.Kind.Name).Float64("duration_s", time.Since(t0).Seconds()).
			Float64("scan_s", res.scan.Seconds()).Int("files", res.files).
			Int64("read", res.read).Int64("loaded", res.loaded).Int64("quarantined", res.quarantined).
			Int64("duplicates", res.duplicates).Int64("filtered", res.filtered).Msg("source ingested")
		if ctx.Err() != nil {
			return counts, ctx.Err()
		}
	}
	if len(failures) > 0 {
		return counts, errors.New(strings.Join(failures, "\n"))
	}
	return counts, nil
}

func loadState(ctx context.Context, conn *sql.Conn) (map[string]fileState, error) {
	rows, err := conn.QueryContext(ctx, "SELECT source, file, size_bytes, modified_at, status FROM ops.ingest_files")
	if err != nil {
		return nil, fmt.Errorf("read ops.ingest_files: %w", err)
	}
	defer rows.Close()
	out := map[string]fileState{}
	for rows.Next() {
		var src, file string
		var st fileState
		if err := rows.Scan(&src, &file, &st.size, &st.mtime, &st.status); err != nil {
			return nil, err
		}
		out[src+"\x00"+file] = st
	}
	return out, rows.Err()
}

// changed reports whether a file must be (re)loaded: never loaded, failed,
// or changed since (size or modification time).
func changed(source string, f *inputFile, state map[string]fileState) bool {
	st, known := state[source+"\x00"+f.Rel]
	// The ledger keeps microseconds; file systems give nanoseconds.
	return !known || (st.status != "loaded" && st.status != "empty") || st.size != f.Size || !st.mtime.Equal(f.MTime.Truncate(time.Microsecond))
}

// pending lists the files of a source to (re)load. A snapshot source loads
// the files of the newest folder that has any, again when one changed or
// another file was loaded since.
func pending(r sources.Resolved, dates []time.Time, listing map[time.Time][]*inputFile, state map[string]fileState) []*inputFile {
	var out []*inputFile
	for i := len(dates) - 1; i >= 0; i-- {
		var here []*inputFile
		for _, f := range listing[dates[i]] {
			if matches(r, filepath.Base(f.Rel)) {
				here = append(here, f)
			}
		}
		if r.Kind.Delivery == sources.Snapshot {
			if len(here) == 0 {
				continue
			}
			for _, f := range here {
				if changed(r.Name, f, state) || !snapshotCurrent(r, here, state) {
					out = append(out, here...)
					break
				}
			}
			break
		}
		// Unchanged files are never read twice, not even the run date's on
		// a rerun: landed events are immutable (hot and cold have them).
		for _, f := range here {
			if changed(r.Name, f, state) {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out
}

// snapshotCurrent reports whether files are the snapshot the table holds
// now: all loaded, and no other file of the source loaded after them.
func snapshotCurrent(r sources.Resolved, files []*inputFile, state map[string]fileState) bool {
	mine := map[string]bool{}
	for _, f := range files {
		st, ok := state[r.Name+"\x00"+f.Rel]
		if !ok || (st.status != "loaded" && st.status != "empty") {
			return false
		}
		mine[r.Name+"\x00"+f.Rel] = true
	}
	for k, other := range state {
		if strings.HasPrefix(k, r.Name+"\x00") && !mine[k] && other.status == "loaded" {
			return false
		}
	}
	return true
}

// unmatchedSource is how ops.ingest_files lists files no source reads.
const unmatchedSource = "(unmatched)"

// recordUnmatched records, and logs once, the files of the run's folders
// that no source matches: a renamed export would otherwise load nothing
// without a word. It returns how many such files the folders hold.
func recordUnmatched(ctx context.Context, env *orchestration.Env, conn *sql.Conn, srcs []sources.Resolved,
	dates []time.Time, listing map[time.Time][]*inputFile, state map[string]fileState) (int, error) {
	var fresh []*fileOutcome
	n := 0
	for _, d := range dates {
		for _, f := range listing[d] {
			hit := false
			for _, r := range srcs {
				if matches(r, filepath.Base(f.Rel)) {
					hit = true
					break
				}
			}
			if hit {
				continue
			}
			n++
			if st, ok := state[unmatchedSource+"\x00"+f.Rel]; ok && st.size == f.Size && st.mtime.Equal(f.MTime.Truncate(time.Microsecond)) {
				continue
			}
			env.Log.Warn().Str("file", f.Rel).Msg("no source matches this file: it is not loaded (add a source, or `parcours sources init` it)")
			fresh = append(fresh, &fileOutcome{f: f, status: "unmatched", errText: "no source matches this file"})
		}
	}
	if len(fresh) == 0 {
		return n, nil
	}
	l := &loader{env: env, conn: conn, r: sources.Resolved{Source: sources.Source{Name: unmatchedSource}}}
	return n, l.recordFileRows(ctx, fresh)
}

func names(srcs []sources.Resolved) []string {
	out := make([]string, len(srcs))
	for i, r := range srcs {
		out[i] = r.Name
	}
	return out
}

// oneSourceEach refuses a file two sources' globs match: it would load
// twice, as two sources' rows.
func oneSourceEach(srcs []sources.Resolved, dates []time.Time, listing map[time.Time][]*inputFile) error {
	for _, d := range dates {
		for _, f := range listing[d] {
			var hits []string
			for _, r := range srcs {
				if matches(r, filepath.Base(f.Rel)) {
					hits = append(hits, r.Name)
				}
			}
			if len(hits) > 1 {
				return orchestration.Usage("%s matches the files of sources %s: each file loads into one source (narrow their files:, or disable one with enabled: false)",
					f.Rel, strings.Join(hits, " and "))
			}
		}
	}
	return nil
}
