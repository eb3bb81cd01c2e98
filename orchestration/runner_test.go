package orchestration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

func openTestWarehouse(t *testing.T) (*warehouse.Warehouse, *sqlfs.Set) {
	t.Helper()
	wh := whtest.Open(t, nil, func(o *warehouse.Options) { o.Secrets = nil })
	return wh, wh.SQL
}

type runCase struct {
	runner *Runner
	env    Env
	calls  map[string]int
	fail   map[string]error
}

func newRunCase(t *testing.T) *runCase {
	wh, sqls := openTestWarehouse(t)
	rc := &runCase{calls: map[string]int{}, fail: map[string]error{}}
	mk := func(name string, needs ...string) Job {
		j := job(name, needs...)
		j.run = func(ctx context.Context, env *Env) (Counts, error) {
			rc.calls[name]++
			if err := rc.fail[name]; err != nil {
				return Counts{In: 3}, err
			}
			return Counts{In: 3, Out: 2}, nil
		}
		return j
	}
	dag, err := NewDAG([]Job{mk("a"), mk("b", "a"), mk("c", "b"), mk("x")}, sqls)
	if err != nil {
		t.Fatal(err)
	}
	rc.runner = &Runner{DAG: dag, Ledger: NewLedger(wh.DB, sqls), Log: zerolog.Nop()}
	rc.env = Env{Date: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), Config: wh.Config}
	return rc
}

func (rc *runCase) run(t *testing.T, opt RunOptions) (*Summary, error) {
	t.Helper()
	env := rc.env
	env.RunID = NewRunID(time.Now())
	return rc.runner.Run(context.Background(), env, opt)
}

func statuses(s *Summary) map[string]string {
	out := map[string]string{}
	for _, j := range s.Jobs {
		out[j.Job] = j.Status
	}
	return out
}

func TestRunnerSkipsSucceededAndResumes(t *testing.T) {
	rc := newRunCase(t)
	rc.fail["b"] = errors.New("disk on fire")
	sum, err := rc.run(t, RunOptions{})
	if ExitCode(err) != ExitJobFailed || sum.ExitCode != ExitJobFailed {
		t.Fatalf("first run: exit %d (%v), want 1", ExitCode(err), err)
	}
	want := map[string]string{"a": StatusSucceeded, "b": StatusFailed, "c": StatusUpstreamFailed, "x": StatusSucceeded}
	if got := statuses(sum); !equalMaps(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	// Resume: a and x are skipped, b is retried as attempt 2, c runs.
	delete(rc.fail, "b")
	sum, err = rc.run(t, RunOptions{})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	want = map[string]string{"a": StatusAlreadyDone, "b": StatusSucceeded, "c": StatusSucceeded, "x": StatusAlreadyDone}
	if got := statuses(sum); !equalMaps(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	for _, j := range sum.Jobs {
		if j.Job == "b" && j.Attempt != 2 {
			t.Fatalf("b attempt = %d, want 2", j.Attempt)
		}
	}
	if rc.calls["a"] != 1 || rc.calls["b"] != 2 || rc.calls["c"] != 1 {
		t.Fatalf("calls = %v", rc.calls)
	}
	// Force reruns everything.
	sum, err = rc.run(t, RunOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if rc.calls["a"] != 2 || rc.calls["x"] != 2 {
		t.Fatalf("force did not rerun: %v", rc.calls)
	}
	entries, err := rc.runner.Ledger.List(context.Background(), &rc.env.Date, 100)
	if err != nil {
		t.Fatal(err)
	}
	// first run: a, b (failed), x — c never started; resume: b, c; force: all four
	if len(entries) != 3+2+4 {
		t.Fatalf("ledger has %d rows, want 9", len(entries))
	}
}

func TestRunnerSingleJobNeedsUpstream(t *testing.T) {
	rc := newRunCase(t)
	_, err := rc.run(t, RunOptions{Targets: []string{"b"}})
	if ExitCode(err) != ExitUsage {
		t.Fatalf("running b before a: exit %d (%v), want 2", ExitCode(err), err)
	}
	sum, err := rc.run(t, RunOptions{Targets: []string{"b"}, WithUpstream: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(sum); !equalMaps(got, map[string]string{"a": StatusSucceeded, "b": StatusSucceeded}) {
		t.Fatalf("statuses = %v", got)
	}
}

func TestRunnerExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		fail   map[string]error
		want   int
		status string
	}{
		{"temporary only", map[string]error{"x": Temporary(errors.New("503 from destination"), time.Minute)}, ExitTemporary, "temporary_failure"},
		{"real failure wins over temporary", map[string]error{"x": Temporary(errors.New("503"), 0), "a": errors.New("bad")}, ExitJobFailed, StatusFailed},
		{"nothing to do", map[string]error{"a": ErrNothingToDo}, ExitNothingToDo, "nothing_to_do"},
		{"a skip is not a failure", map[string]error{"b": Skip("no purchase yet")}, ExitOK, StatusSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newRunCase(t)
			rc.fail = tt.fail
			sum, err := rc.run(t, RunOptions{})
			if ExitCode(err) != tt.want || sum.ExitCode != tt.want || sum.Status != tt.status {
				t.Fatalf("exit %d / summary exit %d status %q (%v), want %d %q", ExitCode(err), sum.ExitCode, sum.Status, err, tt.want, tt.status)
			}
		})
	}
}

// A skipped job says why and stops nothing; a job that only comes after a
// failed one (After) still runs, while the jobs that need the failed one
// do not; the run still exits 1.
func TestRunnerSkipAndAfter(t *testing.T) {
	wh, sqls := openTestWarehouse(t)
	ran := map[string]int{}
	mk := func(name string, err error, needs ...string) *fakeJob {
		j := job(name, needs...)
		j.run = func(context.Context, *Env) (Counts, error) {
			ran[name]++
			return Counts{Notes: []string{"left a part out"}}, err
		}
		return j
	}
	report := mk("report", nil, "export")
	report.spec.After = []string{"model"}
	jobs := []Job{mk("load", nil), mk("train", Skip("no purchase before %s", "2026-11-22"), "load"),
		mk("model", errors.New("fit exploded"), "train"), mk("uses_model", nil, "model"),
		mk("export", nil, "load"), report}
	dag, err := NewDAG(jobs, sqls)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{DAG: dag, Ledger: NewLedger(wh.DB, sqls), Log: zerolog.Nop()}
	env := Env{Date: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), RunID: "r1", Config: wh.Config}
	sum, err := r.Run(context.Background(), env, RunOptions{})
	if ExitCode(err) != ExitJobFailed {
		t.Fatalf("exit %d (%v), want 1: a failed model job must reach the scheduler", ExitCode(err), err)
	}
	want := map[string]string{"load": StatusSucceeded, "train": StatusSkipped, "model": StatusFailed,
		"uses_model": StatusUpstreamFailed, "export": StatusSucceeded, "report": StatusSucceeded}
	if got := statuses(sum); !equalMaps(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	for _, j := range sum.Jobs {
		switch j.Job {
		case "train":
			if j.Reason != "no purchase before 2026-11-22" || j.Error != "" {
				t.Errorf("train: reason %q error %q", j.Reason, j.Error)
			}
		case "load":
			if j.Reason != "left a part out" {
				t.Errorf("load: notes not kept as the reason: %q", j.Reason)
			}
		}
	}
	if order := dag.Order(); indexOf(order, "report") < indexOf(order, "model") {
		t.Errorf("report runs before the job it comes after: %v", order)
	}
	// A skip is done: the date's next run leaves it, as a success.
	env.RunID = "r2"
	sum, _ = r.Run(context.Background(), env, RunOptions{})
	if got := statuses(sum); got["train"] != StatusAlreadyDone || ran["train"] != 1 {
		t.Errorf("rerun: train %s, ran %d times", got["train"], ran["train"])
	}
}

// A night without input: the first job says so, every job after it is
// skipped (not failed), exit 99; a scheduler running one job per task gets
// 99 for the later jobs too; the extract's arrival makes the date run.
func TestRunnerNoInput(t *testing.T) {
	rc := newRunCase(t)
	rc.fail["a"] = fmt.Errorf("%w: no extract folder in/2026-11-22", ErrNothingToDo)
	sum, err := rc.run(t, RunOptions{})
	if ExitCode(err) != ExitNothingToDo || sum.Status != StatusNothingToDo {
		t.Fatalf("exit %d status %s (%v), want 99", ExitCode(err), sum.Status, err)
	}
	want := map[string]string{"a": StatusSkipped, "b": StatusSkipped, "c": StatusSkipped, "x": StatusSkipped}
	if got := statuses(sum); !equalMaps(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	for _, j := range sum.Jobs {
		if !strings.Contains(j.Reason, "no extract folder") {
			t.Errorf("%s: reason %q does not say why", j.Job, j.Reason)
		}
	}
	if rc.calls["b"]+rc.calls["x"] != 0 {
		t.Fatalf("jobs ran after a night without input: %v", rc.calls)
	}
	if _, err := rc.run(t, RunOptions{Targets: []string{"b"}}); ExitCode(err) != ExitNothingToDo {
		t.Fatalf("run b alone after a night without input: exit %d (%v), want 99", ExitCode(err), err)
	}
	delete(rc.fail, "a")
	sum, err = rc.run(t, RunOptions{})
	if err != nil || statuses(sum)["c"] != StatusSucceeded {
		t.Fatalf("once the extract arrived: %v %v", statuses(sum), err)
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func TestRunnerPanickingJobFails(t *testing.T) {
	wh, sqls := openTestWarehouse(t)
	j := job("boom")
	j.run = func(context.Context, *Env) (Counts, error) { panic("nil map") }
	dag, _ := NewDAG([]Job{j}, sqls)
	r := &Runner{DAG: dag, Ledger: NewLedger(wh.DB, sqls), Log: zerolog.Nop()}
	sum, err := r.Run(context.Background(), Env{Date: time.Now().UTC().Truncate(24 * time.Hour), RunID: "r1"}, RunOptions{})
	if ExitCode(err) != ExitJobFailed || sum.Jobs[0].Status != StatusFailed {
		t.Fatalf("panic: %v %+v", err, sum.Jobs)
	}
}

func TestInterruptedJobIsResumed(t *testing.T) {
	rc := newRunCase(t)
	// A process killed mid-job leaves a 'running' row behind.
	if err := rc.runner.Ledger.Start(context.Background(), "dead-run", "a", rc.env.Date, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	sum, err := rc.run(t, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range sum.Jobs {
		if j.Job == "a" && (j.Status != StatusSucceeded || j.Attempt != 2) {
			t.Fatalf("a: %+v, want succeeded attempt 2", j)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// When the ledger cannot record a job's end (a full disk invalidated the
// database), the job is never reported as succeeded, the jobs after it
// are listed as not run, and the run's error leads with the cause.
func TestLedgerFailureIsNotSuccess(t *testing.T) {
	wh, sqls := openTestWarehouse(t)
	breaks := job("b", "a")
	breaks.run = func(ctx context.Context, env *Env) (Counts, error) {
		// What a failed checkpoint leaves: the ledger cannot be written.
		_, err := wh.DB.ExecContext(ctx, "DROP TABLE ops.job_runs")
		return Counts{}, err
	}
	ok := func(name string, needs ...string) Job {
		j := job(name, needs...)
		j.run = func(context.Context, *Env) (Counts, error) { return Counts{}, nil }
		return j
	}
	dag, err := NewDAG([]Job{ok("a"), breaks, ok("c", "b")}, sqls)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{DAG: dag, Ledger: NewLedger(wh.DB, sqls), Log: zerolog.Nop()}
	sum, err := r.Run(context.Background(), Env{Date: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), RunID: "r", Config: wh.Config}, RunOptions{})
	if err == nil || ExitCode(err) != ExitJobFailed {
		t.Fatalf("err = %v, want a job failure", err)
	}
	if got := statuses(sum); got["a"] != StatusSucceeded || got["b"] != StatusFailed || got["c"] != StatusUpstreamFailed {
		t.Fatalf("statuses %v", got)
	}
	if !strings.HasPrefix(err.Error(), "b: ") || strings.HasPrefix(err.Error(), "b: ledger") || !strings.Contains(err.Error(), "job_runs") {
		t.Fatalf("err = %q: want the job, then the cause", err)
	}
}

func TestStorageCause(t *testing.T) {
	fatal := errors.New(`ledger finish: FATAL Error: Failed: database has been invalidated because of a previous fatal error. The database must be restarted prior to being used again.
Original error: "Failed to create checkpoint because of error: Could not write file "/w/hot.duckdb": No space left on device"
-- in statement:
UPDATE ops.job_runs`)
	want := `Failed to create checkpoint because of error: Could not write file "/w/hot.duckdb": No space left on device (DuckDB closed the database after this error)`
	if got := StorageCause(fatal); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := StorageCause(errors.New("ledger start: Catalog Error: x\n-- in statement:\nINSERT")); got != "Catalog Error: x" {
		t.Fatalf("got %q", got)
	}
}
