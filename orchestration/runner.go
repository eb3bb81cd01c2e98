package orchestration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/redact"
)

// Job statuses in a run summary.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	// StatusSkipped: the job had nothing to do (too little history, no
	// promoted model, no input for the date), said why, and is not a
	// failure; the jobs after it run with what exists.
	StatusSkipped        = "skipped"
	StatusAlreadyDone    = "already_done"    // succeeded or skipped earlier for this date
	StatusUpstreamFailed = "upstream_failed" // not run: a job it needs failed
	// StatusNothingToDo is the ledger's record of a job that found no input
	// for the date: unlike a skip it is not done, so the date's next run
	// tries again once the extract has arrived.
	StatusNothingToDo = "nothing_to_do"
)

// Done reports whether a ledger status means the job's work for the date
// is done (a rerun without --force leaves it): it succeeded, or had
// nothing to do.
func Done(status string) bool { return status == StatusSucceeded || status == StatusSkipped }

// JobResult is one job's outcome in a run.
type JobResult struct {
	Job       string  `json:"job"`
	Status    string  `json:"status"`
	Attempt   int     `json:"attempt,omitempty"`
	RowsIn    int64   `json:"rows_in"`
	RowsOut   int64   `json:"rows_out"`
	DurationS float64 `json:"duration_s"`
	Error     string  `json:"error,omitempty"`
	// Reason says why a job was skipped, or what it left out while
	// succeeding (a model it could not train yet).
	Reason    string           `json:"reason,omitempty"`
	Temporary bool             `json:"temporary,omitempty"`
	Detail    map[string]int64 `json:"detail,omitempty"`
}

// Summary is the machine-readable account of a run (--summary-json).
type Summary struct {
	RunID       string      `json:"run_id"`
	LogicalDate string      `json:"logical_date"`
	Command     string      `json:"command"`
	Status      string      `json:"status"`
	ExitCode    int         `json:"exit_code"`
	StartedAt   time.Time   `json:"started_at"`
	EndedAt     time.Time   `json:"ended_at"`
	DurationS   float64     `json:"duration_s"`
	Jobs        []JobResult `json:"jobs"`
	Error       string      `json:"error,omitempty"`
	// Alerts counts warnings a scheduler may want to page on (non-zero = look).
	Alerts map[string]int64 `json:"alerts,omitempty"`
}

// waits reports whether a shard run stopped at a merge gate.
func (s *Summary) waits() bool {
	for _, j := range s.Jobs {
		if j.Status == StatusWaiting {
			return true
		}
	}
	return false
}

// WriteFile writes the summary atomically (a reader never sees half a file).
func (s *Summary) WriteFile(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("summary %s: %w", path, err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("summary %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// Runner runs selected jobs of a DAG for one logical date.
type Runner struct {
	DAG    *DAG
	Ledger *Ledger
	Log    zerolog.Logger
	// OnProgress, if set, is called after every job with the summary so far
	// (the CLI keeps a live copy for `parcours status`).
	OnProgress func(*Summary)
	// OnStart, if set, is called as each job starts (step of total), for a
	// live progress line on a terminal.
	OnStart func(job string, step, total int)
}

// RunOptions selects what to run.
type RunOptions struct {
	Targets      []string // job names; empty or "nightly" = the whole DAG
	WithUpstream bool
	Force        bool
	Command      string
}

// NewRunID returns a sortable, unique run id.
func NewRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Run runs the selected jobs in DAG order for env.Date. A job already done
// for the date is left unless Force; a failed job stops the jobs that need
// it but not independent branches, nor the jobs that only come after it
// (Spec.After); a skipped job stops nothing, except a job that found no
// input for the date: then every job after it is skipped too. The returned error is the
// run's outcome (nil, a job failure, a temporary failure); the summary is
// always returned, complete, even on error.
func (r *Runner) Run(ctx context.Context, base Env, opt RunOptions) (*Summary, error) {
	start := time.Now()
	sum := &Summary{RunID: base.RunID, LogicalDate: base.DateString(), Command: opt.Command, StartedAt: start.UTC()}
	finish := func(err error) (*Summary, error) {
		sum.EndedAt = time.Now().UTC()
		sum.DurationS = sum.EndedAt.Sub(sum.StartedAt).Seconds()
		sum.ExitCode = ExitCode(err)
		switch {
		case err == nil && sum.waits():
			sum.Status = StatusWaiting
		case err == nil:
			sum.Status = StatusSucceeded
		case sum.ExitCode == ExitTemporary:
			sum.Status = "temporary_failure"
		case sum.ExitCode == ExitNothingToDo:
			sum.Status = StatusNothingToDo
		default:
			sum.Status = StatusFailed
		}
		if err != nil {
			sum.Error = redact.Text(err.Error())
		}
		return sum, err
	}

	names, err := r.DAG.Select(opt.Targets, opt.WithUpstream)
	if err != nil {
		return finish(err)
	}
	if n, err := r.Ledger.MarkInterrupted(ctx); err != nil {
		return finish(err)
	} else if n > 0 {
		r.Log.Warn().Int64("jobs", n).Msg("found jobs left running by an interrupted process; marked failed, resuming")
	}
	state, err := r.Ledger.State(ctx, base.Date)
	if err != nil {
		return finish(err)
	}
	// A job run alone needs its upstream to have succeeded for the date
	// (or to be in this run).
	inRun := map[string]bool{}
	for _, n := range names {
		inRun[n] = true
	}
	for _, n := range names {
		j, _ := r.DAG.Job(n)
		for _, need := range j.Spec().Needs {
			if !inRun[need] && !Done(state[need].Status) {
				if by := nothingToDo(state); by != "" {
					// A scheduler running one task per job reaches the
					// jobs after a night without input: they skip too.
					return finish(fmt.Errorf("%w: %s found no input for %s, so %s has nothing to work on",
						ErrNothingToDo, by, base.DateString(), n))
				}
				return finish(Usage("job %s needs %s, which has not succeeded for %s; run it first or add --with-upstream",
					n, need, base.DateString()))
			}
		}
	}

	failed := map[string]bool{}
	waiting := map[string]bool{}
	var noInput error // a job found no input for the date: the rest is skipped
	var firstErr error
	allTemporary := true
	for i, n := range names {
		j, _ := r.DAG.Job(n)
		res := JobResult{Job: n}
		log := r.Log.With().Str("job", n).Str("step", fmt.Sprintf("%d/%d", i+1, len(names))).Logger()
		if up := r.failedUpstream(j, waiting); up != "" {
			res.Status = StatusWaiting
			res.Error = "not run: " + up + " waits for the merge"
			waiting[n] = true
			sum.Jobs = append(sum.Jobs, res)
			continue
		}
		if up := r.failedUpstream(j, failed); up != "" {
			res.Status = StatusUpstreamFailed
			res.Error = "not run: " + up + " did not succeed"
			failed[n] = true
			log.Warn().Str("upstream", up).Msg("job not run: an upstream job failed")
			sum.Jobs = append(sum.Jobs, res)
			continue
		}
		if noInput != nil {
			res.Status, res.Reason = StatusSkipped, "not run: "+redact.Text(noInput.Error())
			sum.Jobs = append(sum.Jobs, res)
			continue
		}
		if st := state[n]; Done(st.Status) && !opt.Force {
			res.Status = StatusAlreadyDone
			res.Attempt = st.Attempt
			log.Info().Msg("job already done for this date, left as it is (use --force to rerun)")
			sum.Jobs = append(sum.Jobs, res)
			continue
		}
		if err := ctx.Err(); err != nil {
			return finish(Temporary(fmt.Errorf("run interrupted before %s: %w", n, err), 0))
		}
		res.Attempt = state[n].Attempt + 1
		env := base
		env.Attempt = res.Attempt
		env.Force = opt.Force
		env.Log = log
		t0 := time.Now()
		if err := r.Ledger.Start(ctx, base.RunID, n, base.Date, res.Attempt, t0.UTC()); err != nil {
			return finish(fmt.Errorf("%s not started: %s", n, StorageCause(err)))
		}
		log.Info().Int("attempt", res.Attempt).Msg("job started")
		if r.OnStart != nil {
			r.OnStart(n, i+1, len(names))
		}
		counts, jobErr := runSafely(ctx, j, &env)
		// What a job built in Go (identity's graph, a model's matrices) is
		// garbage now: give it back to the system before the next job, or
		// the process keeps both jobs' peaks (the 1M route stage held
		// 15 GiB where its jobs alone peak at 10).
		debug.FreeOSMemory()
		if failpoint(n, base.DateString()) {
			jobErr = fmt.Errorf("injected failure (%s=%s@%s)", FailpointEnv, n, base.DateString())
		}
		res.DurationS = time.Since(t0).Seconds()
		res.RowsIn, res.RowsOut, res.Detail = counts.In, counts.Out, counts.Detail
		status := StatusSucceeded
		var skip *SkipError
		switch {
		case errors.Is(jobErr, ErrWaiting):
			status = StatusWaiting
		case errors.Is(jobErr, ErrNothingToDo):
			status = StatusNothingToDo
			jobErr = fmt.Errorf("%s: %w", n, jobErr)
		case errors.As(jobErr, &skip):
			status = StatusSkipped
		case jobErr != nil:
			status = StatusFailed
			jobErr = fmt.Errorf("%s: %w", n, jobErr)
		}
		// The ledger write must survive a cancelled context, or an
		// interrupted job would stay "running".
		if err := r.Ledger.Finish(context.WithoutCancel(ctx), base.RunID, n, status, time.Now().UTC(), counts, jobErr); err != nil {
			// The warehouse could not record the outcome (a full disk, a
			// database DuckDB invalidated): whatever the job said, its
			// work is not known to be kept. The cause leads the message.
			res.Status, res.Error = StatusFailed, redact.Text(fmt.Sprintf("%s: %s (the job's outcome could not be written to the run ledger)", n, StorageCause(err)))
			sum.Jobs = append(sum.Jobs, res)
			for _, rest := range names[i+1:] {
				sum.Jobs = append(sum.Jobs, JobResult{Job: rest, Status: StatusUpstreamFailed, Error: "not run: the warehouse could not be written"})
			}
			log.Error().Str("cause", StorageCause(err)).Err(err).Msg("job outcome not recorded: the run stops")
			return finish(fmt.Errorf("%s: %s; the run stopped, rerun once fixed (it resumes at %s)", n, StorageCause(err), n))
		}
		res.Status = status
		res.Reason = strings.Join(counts.Notes, "; ")
		if status == StatusWaiting {
			waiting[n] = true
			log.Info().Msg(jobErr.Error())
		} else if status == StatusNothingToDo {
			res.Status, res.Reason = StatusSkipped, redact.Text(jobErr.Error())
			noInput = jobErr
			if firstErr == nil {
				firstErr = jobErr
			}
			log.Warn().Err(jobErr).Msg("nothing to do for this date; the jobs after it are skipped")
		} else if status == StatusSkipped {
			res.Reason = redact.Text(skip.Reason)
			log.Warn().Str("reason", res.Reason).Float64("duration_s", round(res.DurationS)).Msg("job skipped")
		} else if jobErr != nil {
			res.Error = redact.Text(jobErr.Error())
			res.Temporary = IsTemporary(jobErr)
			allTemporary = allTemporary && res.Temporary
			failed[n] = true
			if firstErr == nil {
				firstErr = jobErr
			}
			log.Error().Err(jobErr).Float64("duration_s", res.DurationS).Msg("job failed")
		} else {
			log.Info().Float64("duration_s", round(res.DurationS)).Int64("rows_in", counts.In).
				Int64("rows_out", counts.Out).Msg("job succeeded")
		}
		sum.Jobs = append(sum.Jobs, res)
		if r.OnProgress != nil {
			r.OnProgress(sum)
		}
	}
	if firstErr != nil && !allTemporary {
		// A real failure wins over temporary ones: retrying will not fix it.
		var t *TemporaryError
		if errors.As(firstErr, &t) {
			for _, jr := range sum.Jobs {
				if jr.Status == StatusFailed && !jr.Temporary {
					firstErr = errors.New(jr.Error)
					break
				}
			}
		}
	}
	return finish(firstErr)
}

// nothingToDo names a job whose latest attempt for the date found no input.
func nothingToDo(state map[string]JobState) string {
	var by []string
	for n, st := range state {
		if st.Status == StatusNothingToDo {
			by = append(by, n)
		}
	}
	sort.Strings(by)
	return strings.Join(by, ", ")
}

func (r *Runner) failedUpstream(j Job, failed map[string]bool) string {
	for _, n := range j.Spec().Needs {
		if failed[n] {
			return n
		}
	}
	return ""
}

// runSafely turns a panicking job into a failed one, so the ledger and the
// summary still say what happened.
func runSafely(ctx context.Context, j Job, env *Env) (c Counts, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return j.Run(ctx, env)
}

// StorageCause is the first cause of a storage error, as an operator
// needs it first: DuckDB reports a failed checkpoint as "FATAL Error:
// database has been invalidated ... Original error: <the cause>", and our
// wrapping puts "ledger finish:" in front; the cause is the disk.
func StorageCause(err error) string {
	msg := err.Error()
	if _, orig, ok := strings.Cut(msg, `Original error: "`); ok {
		if i := strings.LastIndex(orig, `"`); i > 0 {
			orig = orig[:i]
		}
		return orig + " (DuckDB closed the database after this error)"
	}
	msg, _, _ = strings.Cut(msg, "\n-- in statement:")
	for _, p := range []string{"ledger start: ", "ledger finish: ", "ledger interrupted: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

func round(v float64) float64 { return float64(int64(v*1000)) / 1000 }

// FailpointEnv names the variable that makes a job fail after it ran, as a
// crash right before its ledger row would be written as succeeded:
// "JOB@YYYY-MM-DD" (or "JOB" for every date). For tests of resume and
// backfill, and for rehearsing a scheduler's retry policy.
const FailpointEnv = "PARCOURS_FAILPOINT"

func failpoint(job, date string) bool {
	fp := os.Getenv(FailpointEnv)
	return fp != "" && (fp == job || fp == job+"@"+date)
}
