// Package score is the nightly scoring job: the promoted churn model scores
// every purchaser's features of the day (probability, risk band, top three
// reasons in words) into analytics.churn_scores, and the promoted CLV model
// their purchase history into analytics.clv_scores. A kind without a
// promoted model is skipped with a warning, not an error.
package score

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/parallel"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/features"
	"github.com/parcours/parcours/jobs/train"
	"github.com/parcours/parcours/models/churn"
	"github.com/parcours/parcours/models/clv"
	"github.com/parcours/parcours/models/registry"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is the score job.
type Job struct{}

// New returns the score job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "score", Needs: []string{"features"}, After: []string{"train"},
		SQL: sqlRefs(),
		Doc: "score every purchaser with the promoted churn (probability, band, reasons) and CLV models, except who objects to profiling"}
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	objecting, err := Excluded(ctx, env.WH, conn, "profiling")
	if err != nil {
		return c, err
	}
	c.Detail["objected"] = int64(len(objecting))
	// The features job of the same run built tonight's features, and
	// nothing between it and scoring changes the hot tables. Run alone (or
	// in a later pass of a sharded night) score builds them again.
	q, err := env.WH.SQL.Section("ops.job_runs.sql", "succeeded_in_run")
	if err != nil {
		return c, err
	}
	var built bool
	if err := conn.QueryRowContext(ctx, q, sql.Named("run_id", env.RunID), sql.Named("job", "features")).Scan(&built); err != nil {
		return c, fmt.Errorf("ops.job_runs.sql succeeded_in_run: %w", err)
	}
	// Churn and CLV read and write different tables: CLV runs beside churn
	// on a second connection, so one model's Go work overlaps the other's
	// reads and writes. Neither result depends on it.
	clvConn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer clvConn.Close()
	clvCtx, cancelCLV := context.WithCancel(ctx)
	defer cancelCLV()
	type scored struct {
		n   int64
		err error
	}
	clvDone := make(chan scored, 1)
	go func() {
		t0 := time.Now()
		n, err := ScoreCLV(clvCtx, env.WH, clvConn, env.Config.Models, env.Date, objecting, logging.Steps(env.Log, "score step"))
		env.Log.Debug().Str("phase", "clv").Float64("took_s", time.Since(t0).Seconds()).Msg("score step")
		clvDone <- scored{n, err}
	}()
	t0 := time.Now()
	n, err := ScoreChurn(ctx, env.WH, conn, env.Config.Models, env.Date, objecting, !built, logging.Steps(env.Log, "score step"))
	env.Log.Debug().Str("phase", "churn").Float64("took_s", time.Since(t0).Seconds()).Msg("score step")
	switch {
	case errors.Is(err, registry.ErrNotFound):
		env.Log.Warn().Msg("no promoted churn model: churn not scored")
		c.Notes = append(c.Notes, "churn not scored: no promoted churn model yet")
	case err != nil:
		cancelCLV()
		<-clvDone // its connection closes on return
		return c, err
	}
	c.Detail["churn_scores"] = n
	c.Out += n
	r := <-clvDone
	switch {
	case errors.Is(r.err, registry.ErrNotFound):
		env.Log.Warn().Msg("no promoted CLV model: CLV not scored")
		c.Notes = append(c.Notes, "CLV not scored: no promoted CLV model yet")
	case r.err != nil:
		return c, r.err
	}
	c.Detail["clv_scores"] = r.n
	c.Out += r.n
	if len(c.Notes) == 2 {
		return c, orchestration.Skip("no promoted churn or CLV model yet: nothing to score")
	}
	return c, nil
}

// LoadChurn loads the promoted churn model.
func LoadChurn(ctx context.Context, wh *warehouse.Warehouse) (*registry.Model, *churn.Model, error) {
	rm, err := registry.Promoted(ctx, wh.DB, wh.SQL, "churn")
	if err != nil {
		return nil, nil, err
	}
	b, err := registry.LoadArtifact(wh.Dir, rm)
	if err != nil {
		return nil, nil, err
	}
	m, err := churn.UnmarshalModel(b)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", rm.ID, err)
	}
	return rm, m, nil
}

// Excluded lists the customers a job must leave out because they object
// (consent.objecting): for "profiling" (scoring), those who object to
// profiling or contest a decision; for any other use (segments, triggers,
// activation), everyone who objects.
func Excluded(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, what string) (map[string]bool, error) {
	q, err := wh.SQL.Section("consent.objections.sql", "excluded")
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, q, sql.Named("what", what))
	if err != nil {
		return nil, fmt.Errorf("read objections: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// ScoreChurn scores the features of the day after date into
// analytics.churn_scores (scored_on = date), leaving out the customers in
// skip (who object to profiling); build builds those features first. lap
// is called after each step with its name.
func ScoreChurn(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cfg config.Models, date time.Time, skip map[string]bool, build bool, lap func(string)) (int64, error) {
	rm, m, err := LoadChurn(ctx, wh)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	cut := features.ScoringCutoff(date)
	if build {
		if _, err := features.Build(ctx, wh, conn, cut); err != nil {
			return 0, err
		}
		lap("churn: build features")
	}
	tab, err := features.Load(ctx, wh, conn, cut, 0)
	if err != nil {
		return 0, err
	}
	lap("churn: read features")
	x, err := churn.MatrixFromRows(tab.Names, tab.Values)
	if err != nil {
		return 0, err
	}
	scores, err := m.Score(ctx, x, tab.Customers, churn.ScoreOptions{Describe: Describe,
		Bands: churn.Bands{Medium: cfg.RiskMedium, High: cfg.RiskHigh}})
	if err != nil {
		return 0, fmt.Errorf("score churn with %s: %w", rm.ID, err)
	}
	lap("churn: score")
	scores = slices.DeleteFunc(scores, func(s churn.Score) bool { return skip[s.ID] })
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.churn_scores.sql", Section: "clear_day"}, sql.Named("date", date.Format(time.DateOnly))); err != nil {
		return 0, err
	}
	// Each row's reasons as JSON, on every core: a million customers' are
	// seconds on one.
	js := make([]string, len(scores))
	err = parallel.Chunks(ctx, len(scores), 4096, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			b, err := json.Marshal(scores[i].Reasons)
			if err != nil {
				return fmt.Errorf("churn reasons of a customer: %w", err)
			}
			js[i] = string(b)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.churn_scores.sql", Section: "stage"}); err != nil {
		return 0, err
	}
	err = appendRows(conn, "temp", "main", "churn_scores_stage", len(scores), func(i int) []driver.Value {
		s := scores[i]
		var r [3]any
		for k := 0; k < len(s.Reasons) && k < 3; k++ {
			r[k] = s.Reasons[k].Text
		}
		return []driver.Value{date, s.ID, rm.ID, s.Probability, s.Band, r[0], r[1], r[2], js[i]}
	})
	if err != nil {
		return 0, err
	}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.churn_scores.sql", Section: "from_stage"}); err != nil {
		return 0, err
	}
	lap("churn: write")
	return int64(len(scores)), nil
}

// LoadCLV loads the promoted CLV model.
func LoadCLV(ctx context.Context, wh *warehouse.Warehouse) (*registry.Model, *clv.Model, error) {
	rm, err := registry.Promoted(ctx, wh.DB, wh.SQL, "clv")
	if err != nil {
		return nil, nil, err
	}
	b, err := registry.LoadArtifact(wh.Dir, rm)
	if err != nil {
		return nil, nil, err
	}
	m, err := clv.Load(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", rm.ID, err)
	}
	return rm, m, nil
}

// ScoreCLV scores every purchaser's history up to date into
// analytics.clv_scores, leaving out the customers in skip. lap is called
// after each step with its name.
func ScoreCLV(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cfg config.Models, date time.Time, skip map[string]bool, lap func(string)) (int64, error) {
	rm, m, err := LoadCLV(ctx, wh)
	if err != nil {
		return 0, err
	}
	txs, err := train.Transactions(ctx, wh, conn, date.AddDate(0, 0, 1))
	if err != nil {
		return 0, err
	}
	lap("clv: read purchases")
	if len(txs) == 0 {
		return 0, nil
	}
	customers, err := clv.Summarize(txs, date, m.TimeUnit)
	if err != nil {
		return 0, err
	}
	lap("clv: summarize")
	scores, err := m.Score(ctx, customers, clv.ScoreOptions{HorizonDays: float64(cfg.CLVHorizonDays), AnnualDiscountRate: cfg.CLVDiscountRate})
	if err != nil {
		return 0, fmt.Errorf("score clv with %s: %w", rm.ID, err)
	}
	lap("clv: score")
	scores = slices.DeleteFunc(scores, func(s clv.Score) bool { return skip[s.ID] })
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.clv_scores.sql", Section: "clear_day"}, sql.Named("date", date.Format(time.DateOnly))); err != nil {
		return 0, err
	}
	err = appendRows(conn, "", "analytics", "clv_scores", len(scores), func(i int) []driver.Value {
		s := scores[i]
		return []driver.Value{date, s.ID, rm.ID, s.ProbAlive, s.Purchases30, s.Purchases90, s.Purchases365, s.ExpectedSpend, s.CLV}
	})
	lap("clv: write")
	return int64(len(scores)), err
}

// appendRows appends n rows to catalog.schema.table ("" for the default
// catalog) through DuckDB's appender.
func appendRows(conn *sql.Conn, catalog, schema, table string, n int, row func(int) []driver.Value) error {
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), catalog, schema, table)
		if err != nil {
			return fmt.Errorf("append %s: %w", table, err)
		}
		for i := 0; i < n; i++ {
			if err := app.AppendRow(row(i)...); err != nil {
				_ = app.Close()
				return fmt.Errorf("append %s: %w", table, err)
			}
		}
		return app.Close()
	})
}
