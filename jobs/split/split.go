// Package split is the hot/cold split: every fact of the batch in landing
// is resolved to its customer; facts of customers whose analytics consent
// was valid at the fact's time enter the hot tables, and every fact,
// consented or not, adds its share to the cold contributions. Both happen
// in one transaction, so cold never misses what hot received, or the
// reverse. Landing itself is emptied by the purge job at the end of the run.
package split

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/cold"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// HotTables are the hot fact tables the split fills, in order.
func HotTables() []string {
	return []string{"web_events", "app_events", "store_receipts", "order_records", "contacts", "email_events", "survey_responses"}
}

// Job is the split job.
type Job struct{}

// New returns the split job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	refs := sqlRefs()
	for _, t := range HotTables() {
		refs = append(refs, sqlfs.For("analytics."+t, "split"))
	}
	for _, t := range cold.ContributedTables() {
		refs = append(refs, sqlfs.For("cold."+t, "contribute"))
	}
	return orchestration.Spec{Name: "split", Needs: []string{"consent", "vault"}, SQL: refs,
		Doc: "consent gate: facts of consented customers to hot tables; every fact's share to cold contributions"}
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
	args := []any{sql.Named("lookback_days", env.Config.Attribution.LookbackDays),
		sql.Named("max_touches", env.Config.Attribution.MaxTouches), sql.Named("date", env.DateString())}
	lap := logging.Steps(env.Log, "split step")
	err = warehouse.InTx(ctx, conn, func() error {
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "landing.fact_keys.sql", Section: "build"}); err != nil {
			return err
		}
		lap("fact_keys")
		counts, err := wh.SQL.Section("landing.fact_keys.sql", "counts")
		if err != nil {
			return err
		}
		var anonymous, suppressed int64
		if err := conn.QueryRowContext(ctx, counts).Scan(&c.In, &anonymous, &suppressed); err != nil {
			return fmt.Errorf("landing.fact_keys.sql counts: %w", err)
		}
		lap("counts")
		c.Detail["facts_anonymous"], c.Detail["facts_suppressed"] = anonymous, suppressed
		// Orders are recomputed for the batches' order ids only, unless
		// there are none yet or the configuration asks for everything.
		all := env.Config.FullRecompute
		if !all {
			if err := wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: "analytics.orders.sql", Section: "empty"}).Scan(&all); err != nil {
				return fmt.Errorf("analytics.orders.sql empty: %w", err)
			}
		}
		touched := sqlfs.Ref{File: "analytics.orders.sql", Section: "touched"}
		if !all {
			if _, err := wh.Run(ctx, conn, touched); err != nil {
				return err
			}
		}
		for _, t := range HotTables() {
			n, err := wh.Run(ctx, conn, sqlfs.For("analytics."+t, "split"))
			if err != nil {
				return err
			}
			c.Detail["analytics."+t] = n
			c.Out += n
			lap("analytics." + t)
		}
		if !all {
			if _, err := wh.Run(ctx, conn, touched); err != nil {
				return err
			}
		}
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.orders.sql", Section: "build"}, sql.Named("all", all)); err != nil {
			return err
		}
		lap("analytics.orders")
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "landing.activity.sql", Section: "build"}); err != nil {
			return err
		}
		lap("activity")
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "ops.currencies.sql", Section: "record"}); err != nil {
			return err
		}
		for _, t := range cold.ContributedTables() {
			if _, err := wh.Run(ctx, conn, sqlfs.For("cold."+t, "contribute"), args...); err != nil {
				return err
			}
			lap("cold." + t)
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("split: %w", err)
	}
	lap("commit")
	return c, nil
}
