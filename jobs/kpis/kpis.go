// Package kpis is the KPI job: headline KPIs (cold.kpis), funnel drop-off
// (cold.funnel_dropoff), channel-to-channel transitions
// (cold.channel_transitions), the consented share per purpose
// (cold.consent_daily) and return on spend (cold.return_on_spend: spend
// beside each attribution model's credits), all computed from the k-anonymous cold tables or
// plain counts, so they cover everyone and can be shared.
package kpis

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Tables are the cold tables this job publishes, in the order it builds them.
func Tables() []string {
	return []string{"kpis", "funnel_dropoff", "channel_transitions", "consent_daily", "return_on_spend"}
}

// Job is the KPI job.
type Job struct{}

// New returns the KPI job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	refs := sqlRefs()
	for _, t := range Tables() {
		refs = append(refs, sqlfs.For("cold."+t, "publish"))
	}
	// After attribution: return on spend puts its credits beside the spend.
	return orchestration.Spec{Name: "kpis", Needs: []string{"cold", "consent"}, After: []string{"attribution"}, SQL: refs,
		Doc:       "KPIs (revenue, conversion, abandonment, NPS/CSAT/CES, new customers, CAC, repeat rate), funnel drop-off, channel transitions, consented share, return on spend per attribution model",
		Placement: orchestration.OnMerge, MergeStage: orchestration.StagePublish}
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	err = Publish(ctx, env.WH, conn, env.Config.Privacy.K, env.DateString())
	if err != nil {
		return c, err
	}
	count, err := env.WH.SQL.Section("cold.kpis.sql", "published_rows")
	if err != nil {
		return c, err
	}
	for _, t := range Tables() {
		var n int64
		q := strings.ReplaceAll(count, "{{table}}", sqlfs.QuoteIdent("cold."+t))
		if err := warehouse.QueryRow(ctx, conn, q).Scan(&n); err != nil {
			return c, err
		}
		c.Detail["cold."+t] = n
		c.Out += n
	}
	return c, nil
}

// Publish rebuilds every KPI table in one transaction (they all live in
// the cold database) for the logical date (YYYY-MM-DD).
func Publish(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, k int, date string) error {
	return warehouse.InTx(ctx, conn, func() error {
		for _, t := range Tables() {
			if _, err := wh.Run(ctx, conn, sqlfs.For("cold."+t, "publish"), sql.Named("k", k), sql.Named("date", date)); err != nil {
				return fmt.Errorf("cold.%s: %w", t, err)
			}
		}
		return nil
	})
}
