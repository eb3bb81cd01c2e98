// Package cold publishes the cold store: each cold table is rebuilt from
// the sum of its contributions under the k-anonymity rule (rows standing
// for fewer than k customers are rolled up or suppressed, and counted in
// cold.suppressed_cells), then the short-lived ledgers that keep distinct
// counts exact are pruned. The export job writes the tables as Parquet
// once the privacy audit has passed.
package cold

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// ContributedTables are the cold tables built from the split's additive
// contributions (ops.cold_contrib_<table>), in order.
func ContributedTables() []string {
	return []string{"daily_activity", "funnel_daily", "cohort_retention", "survey_scores", "conversion_paths"}
}

// suppressedFile holds the counts the job reports after publishing.
const suppressedFile = "cold.suppressed_cells.sql"

// Job is the cold publication job.
type Job struct{}

// New returns the cold job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	refs := sqlRefs()
	for _, t := range ContributedTables() {
		refs = append(refs, sqlfs.For("cold."+t, "publish"))
	}
	return orchestration.Spec{Name: "cold", Needs: []string{"split"}, SQL: refs,
		Doc:       "publish cold aggregates under the k-anonymity rule; prune the distinct-count ledgers",
		Placement: orchestration.OnBoth, MergeStage: orchestration.StagePublish}
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	wh := env.WH
	conn, err := wh.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	args := []any{sql.Named("k", env.Config.Privacy.K), sql.Named("date", env.DateString()),
		sql.Named("late_days", env.Config.Privacy.LateDays), sql.Named("lookback_days", env.Config.Attribution.LookbackDays)}
	if env.Shard.Sharded() {
		// A shard never publishes: k applies only to the merged sums.
		if err := warehouse.InTx(ctx, conn, func() error {
			_, err := wh.Run(ctx, conn, sqlfs.Ref{File: "handoff.cold.sql", Section: "snapshot"}, args...)
			return err
		}); err != nil {
			return c, err
		}
		c.Detail["handoff"] = 1
	} else if err := j.publish(ctx, wh, conn, args, &c); err != nil {
		return c, err
	}
	if env.Merged {
		return c, nil // the merged warehouse's ledgers are the shards' copies, replaced each night
	}
	// A DuckDB transaction writes one database file: the ledgers (hot)
	// are pruned in their own. Pruning late only keeps a row a day longer.
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "ops.cold_ledger.sql", Section: "prune"}, args...); err != nil {
		return c, err
	}
	return c, nil
}

// publish rebuilds every cold table from its contributions under k.
func (j *Job) publish(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, args []any, c *orchestration.Counts) error {
	return warehouse.InTx(ctx, conn, func() error {
		for _, t := range ContributedTables() {
			if _, err := wh.Run(ctx, conn, sqlfs.For("cold."+t, "publish"), args...); err != nil {
				return err
			}
			count, err := wh.SQL.Section(suppressedFile, "published_rows")
			if err != nil {
				return err
			}
			var n int64
			q := strings.ReplaceAll(count, "{{table}}", sqlfs.QuoteIdent("cold."+t))
			if err := warehouse.QueryRow(ctx, conn, q).Scan(&n); err != nil {
				return err
			}
			c.Detail["cold."+t] = n
			c.Out += n
		}
		total, err := wh.SQL.Section(suppressedFile, "total_suppressed")
		if err != nil {
			return err
		}
		var supp int64
		if err := warehouse.QueryRow(ctx, conn, total).Scan(&supp); err != nil {
			return err
		}
		c.Detail["suppressed_cells"] = supp
		return nil
	})
}
