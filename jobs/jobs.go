// Package jobs lists parcours' jobs: the one place where the nightly flow
// is registered. Each job lives in its own package below this one.
package jobs

import (
	"github.com/parcours/parcours/jobs/activate"
	"github.com/parcours/parcours/jobs/attribution"
	"github.com/parcours/parcours/jobs/audit"
	"github.com/parcours/parcours/jobs/cold"
	"github.com/parcours/parcours/jobs/consent"
	"github.com/parcours/parcours/jobs/export"
	"github.com/parcours/parcours/jobs/features"
	"github.com/parcours/parcours/jobs/identity"
	"github.com/parcours/parcours/jobs/ingest"
	"github.com/parcours/parcours/jobs/kpis"
	"github.com/parcours/parcours/jobs/purge"
	"github.com/parcours/parcours/jobs/report"
	"github.com/parcours/parcours/jobs/score"
	"github.com/parcours/parcours/jobs/segments"
	"github.com/parcours/parcours/jobs/split"
	"github.com/parcours/parcours/jobs/train"
	"github.com/parcours/parcours/jobs/triggers"
	"github.com/parcours/parcours/jobs/vault"
	"github.com/parcours/parcours/orchestration"
)

// All returns every job, in the order they are usually read. The DAG orders
// them by their needs; this order only breaks ties.
func All() []orchestration.Job {
	return []orchestration.Job{
		ingest.New(),
		identity.New(),
		consent.New(),
		vault.New(),
		split.New(),
		cold.New(),
		attribution.New(),
		kpis.New(),
		purge.New(),
		audit.New(),
		export.New(),
		features.New(),
		train.New(),
		score.New(),
		segments.New(),
		triggers.New(),
		report.New(),
		activate.NewPlan(),
		activate.NewApply(),
	}
}
