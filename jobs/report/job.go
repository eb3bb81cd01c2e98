package report

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/parcours/parcours/internal/publish"
	"github.com/parcours/parcours/orchestration"
)

// Job is the report job: the night's shareable HTML report, written to
// <export_dir>/reports/report-<date>.html, beside the cold exports: what
// is shared lives outside the owner-only warehouse folder.
type Job struct{}

// New returns the report job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job. It runs after everything the report
// shows; its SQL files' sections only read.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "report", Needs: []string{"export"}, After: []string{"score", "segments", "kpis", "attribution"},
		SQL:       sqlRefs(),
		Doc:       "the shareable HTML report of the date (cold aggregates and ops counts only) under <export_dir>/reports/",
		Placement: orchestration.OnMerge, MergeStage: orchestration.StagePublish}
}

// Path is where the job writes the report of a date under an export folder.
func Path(exportDir string, date time.Time) string {
	return filepath.Join(exportDir, "reports", "report-"+fmtDate(dayOf(date))+".html")
}

// Run implements orchestration.Job. Writing the same date twice replaces
// the file, so the job is idempotent.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	path := Path(env.Config.ExportDir, env.Date)
	dir, err := publish.Dir(env.Config.ExportDir, "reports")
	if err != nil {
		return c, fmt.Errorf("report: %w", err)
	}
	// A report a killed run was writing.
	if n, err := publish.Sweep(dir, ".report-*.tmp", time.Now()); err != nil {
		return c, fmt.Errorf("report: %w", err)
	} else if n > 0 {
		env.Log.Info().Int("files", n).Msg("removed temp files an interrupted report left")
	}
	states, err := orchestration.NewLedger(env.WH.DB, env.WH.SQL).State(ctx, env.Date)
	if err != nil {
		return c, fmt.Errorf("report: %w", err)
	}
	charts, err := writeFile(ctx, env.WH.DB, env.WH.SQL, env.Date, time.Now(), path, options{states: states, recordedOnly: env.Merged, currency: env.Config.Currency})
	if err != nil {
		return c, err
	}
	c.Out = 1
	c.Detail["charts"] = int64(len(charts))
	env.Log.Info().Str("path", path).Int("charts", len(charts)).Msg("report written")
	return c, nil
}
