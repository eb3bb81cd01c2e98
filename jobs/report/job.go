package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/parcours/parcours/orchestration"
)

// Job is the report job: the night's shareable HTML report, written to
// <warehouse>/reports/report-<date>.html.
type Job struct{}

// New returns the report job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job. It runs after everything the report
// shows; it executes no SQL file, it only reads.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "report", Needs: []string{"export", "score", "segments", "kpis", "attribution"},
		Doc:       "the shareable HTML report of the date (cold aggregates and ops counts only) under <warehouse>/reports/",
		Placement: orchestration.OnMerge, MergeStage: orchestration.StagePublish}
}

// Path is where the job writes the report of a date in a warehouse folder.
func Path(warehouseDir string, date time.Time) string {
	return filepath.Join(warehouseDir, "reports", "report-"+fmtDate(dayOf(date))+".html")
}

// Run implements orchestration.Job. Writing the same date twice replaces
// the file, so the job is idempotent.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	path := Path(env.WH.Dir, env.Date)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return c, fmt.Errorf("report: %w", err)
	}
	charts, err := writeFile(ctx, env.WH.DB, env.Date, time.Now(), path)
	if err != nil {
		return c, err
	}
	c.Out = 1
	c.Detail["charts"] = int64(len(charts))
	env.Log.Info().Str("path", path).Int("charts", len(charts)).Msg("report written")
	return c, nil
}
