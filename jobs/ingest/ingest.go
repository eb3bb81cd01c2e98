// Package ingest is the ingest job: it loads each day's extracts into the
// landing schema through DuckDB's own readers, checks every row against its
// source's contract, quarantines what breaks it (with file, line and
// reason), normalises identifiers and time, and loads each event once
// whatever the number of re-deliveries.
package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/parcours/parcours/orchestration"
)

// Job is the ingest job.
type Job struct{}

// New returns the ingest job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	files := []string{"ops.quarantine.sql", "ops.ingest_files.sql"}
	for _, c := range Contracts() {
		files = append(files, c.SQLFile())
	}
	return orchestration.Spec{Name: "ingest", SQL: files,
		Doc: "load the extracts of the date (and any earlier folder not yet loaded) into landing, quarantining rows that break their contract"}
}

// fileState is what ops.ingest_files remembers of a file.
type fileState struct {
	size   int64
	mtime  time.Time
	status string
}

// sourceResult is the outcome of loading one source.
type sourceResult struct {
	read, loaded, quarantined, duplicates int64
	files                                 int
	err                                   error
	nulled                                map[string]int64 // values dropped as invalid, by reason
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var counts orchestration.Counts
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
	if !hasToday {
		return counts, fmt.Errorf("%w: no extract folder %s/%s", orchestration.ErrNothingToDo, input, env.DateString())
	}
	for _, c := range Contracts() {
		if err := c.validate(); err != nil {
			return counts, err
		}
	}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return counts, err
	}
	defer conn.Close()
	state, err := loadState(ctx, conn)
	if err != nil {
		return counts, err
	}
	counts.Detail = map[string]int64{}
	var failures []string
	for _, c := range Contracts() {
		files, err := pending(c, input, dates, env.Date, state)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", c.Source, err))
			continue
		}
		if len(files) == 0 {
			continue
		}
		l := &loader{env: env, conn: conn, c: c, input: input}
		t0 := time.Now()
		res := l.load(ctx, files)
		counts.In += res.read
		counts.Out += res.loaded
		counts.Detail[c.Source+".loaded"] = res.loaded
		counts.Detail[c.Source+".quarantined"] = res.quarantined
		counts.Detail[c.Source+".duplicates"] = res.duplicates
		if len(res.nulled) > 0 {
			var n int64
			reasons := make([]string, 0, len(res.nulled))
			for why, k := range res.nulled {
				n += k
				reasons = append(reasons, fmt.Sprintf("%s (%d)", why, k))
			}
			sort.Strings(reasons)
			counts.Detail[c.Source+".nulled"] = n
			env.Log.Warn().Str("source", c.Source).Int64("values", n).Strs("reasons", reasons).
				Msg("invalid values dropped from loaded rows (the rows are kept)")
		}
		ev := env.Log.Info()
		if res.err != nil {
			ev = env.Log.Error().Err(res.err)
			failures = append(failures, res.err.Error())
		}
		ev.Str("source", c.Source).Float64("duration_s", time.Since(t0).Seconds()).Int("files", res.files).Int64("read", res.read).Int64("loaded", res.loaded).
			Int64("quarantined", res.quarantined).Int64("duplicates", res.duplicates).Msg("source ingested")
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

// pending lists the files of a source to (re)load: those never loaded,
// failed, or changed since (size or modification time). Snapshots load
// only their newest file.
func pending(c Contract, input string, dates []time.Time, runDate time.Time, state map[string]fileState) ([]*inputFile, error) {
	var out []*inputFile
	for i := len(dates) - 1; i >= 0; i-- {
		f, err := stat(input, dates[i], c.File)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		st, known := state[c.Source+"\x00"+f.Rel]
		// The ledger keeps microseconds; file systems give nanoseconds.
		changed := !known || st.status != "loaded" || st.size != f.Size || !st.mtime.Equal(f.MTime.Truncate(time.Microsecond))
		if c.Kind == Snapshot {
			if changed || !snapshotCurrent(c, f, state) {
				out = append(out, f)
			}
			break
		}
		// Unchanged files are never read twice, not even the run date's on
		// a rerun: landed events are immutable (hot and cold have them).
		if changed {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, nil
}

// snapshotCurrent reports whether f is the snapshot the table holds now:
// loaded, and no other file of the source loaded after it.
func snapshotCurrent(c Contract, f *inputFile, state map[string]fileState) bool {
	st, ok := state[c.Source+"\x00"+f.Rel]
	if !ok || st.status != "loaded" {
		return false
	}
	for k, other := range state {
		if strings.HasPrefix(k, c.Source+"\x00") && k != c.Source+"\x00"+f.Rel && other.status == "loaded" {
			return false
		}
	}
	return true
}
