// Package orchestration runs parcours' jobs: the DAG they form, the run
// ledger (ops.job_runs), skipping what already succeeded, resuming after a
// failure, and the exit codes schedulers act on.
package orchestration

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is one step of the nightly flow.
type Job interface {
	// Spec declares the job: its name, the jobs it needs, the SQL files it runs.
	Spec() Spec
	// Run does the job's work for env.Date. It must be idempotent: running
	// the same date twice leaves the warehouse as one run does.
	Run(ctx context.Context, env *Env) (Counts, error)
}

// ConfigChecker is a job whose configuration section only it can check
// (the names of its triggers, the bounds of its clustering): commands
// check it with the rest of the configuration, before anything runs.
type ConfigChecker interface {
	CheckConfig(cfg *config.Config) error
}

// CheckConfig runs the checks of the jobs that have one; the errors name
// the keys.
func CheckConfig(jobs []Job, cfg *config.Config) error {
	var errs []error
	for _, j := range jobs {
		if c, ok := j.(ConfigChecker); ok {
			if err := c.CheckConfig(cfg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Spec is what a job declares about itself.
type Spec struct {
	Name string
	// Needs are the jobs whose work this one cannot do without: when one
	// fails, this job is not run (upstream_failed).
	Needs []string
	// After are jobs whose tables this one reads when they exist: in the
	// same run they run first, but their failure does not stop this one,
	// which reads what they left (the audit, the export and the report of
	// what did succeed must still happen on a night a model failed).
	After []string
	// SQL lists the sections the job runs (its package's generated
	// sqlRefs, and those it builds from data, such as one per KPI table);
	// the DAG refuses to start if one is missing from the SQL set.
	SQL []sqlfs.Ref
	// Doc is one line for `parcours jobs`.
	Doc string
	// Placement says where the job runs when the warehouse is split into
	// customer shards (orchestration/SHARDS.md); zero = on every shard.
	Placement Placement
	// MergeStage names the `parcours merge --stage` that runs the job's
	// merged part (StageModels or StagePublish); only for OnMerge, OnBoth.
	MergeStage string
}

// Counts are the rows a job read and wrote, plus any detail worth keeping
// in the ledger (per source, per table).
type Counts struct {
	In     int64            `json:"rows_in"`
	Out    int64            `json:"rows_out"`
	Detail map[string]int64 `json:"detail,omitempty"`
	// Notes say what a job that succeeded left out, and why (one model of
	// two not trained yet); they become the summary's reason.
	Notes []string `json:"notes,omitempty"`
}

// Deps are the jobs that run before this one: Needs, then After.
func (s Spec) Deps() []string { return append(append([]string(nil), s.Needs...), s.After...) }

// Env is what a job gets to work with.
type Env struct {
	// Date is the logical date being processed (a calendar day in the
	// business time zone, at 00:00 UTC).
	Date    time.Time
	RunID   string
	Attempt int
	Force   bool
	Config  *config.Config
	WH      *warehouse.Warehouse
	Log     zerolog.Logger
	// Shard is the customer shard this run processes (Count 0: the whole
	// warehouse, no sharding).
	Shard Shard
	// Merged is set when the job runs its merged part in `parcours merge`,
	// on the warehouse that combines the shards.
	Merged bool
	// ShardDirs are the shard warehouses of a merge, in shard order.
	ShardDirs []string
	// MergedDir is, on a shard, the merged warehouse whose route stage
	// loaded the night's input (the shard's ingest slices it from there).
	MergedDir string
}

// DateString is the logical date as YYYY-MM-DD.
func (e *Env) DateString() string { return e.Date.Format(time.DateOnly) }

// EndOfDay is the instant the logical date is evaluated at (EndOfDay of
// the date in the business time zone).
func (e *Env) EndOfDay() time.Time { return EndOfDay(e.Date, e.Config.Location()) }

// EndOfDay is the instant a logical date is evaluated at: the end of that
// calendar day in the business time zone, i.e. the next local midnight.
// Consents, purges, segments and triggers of a date see what happened
// before it, so re-running the date gives the same result.
func EndOfDay(date time.Time, loc *time.Location) time.Time {
	return time.Date(date.Year(), date.Month(), date.Day()+1, 0, 0, 0, 0, loc)
}
