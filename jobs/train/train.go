// Package train is the train job and the training functions behind
// `parcours model train`: churn models on a time split of point-in-time
// features (models/churn, evaluated with models/eval), CLV models on the
// purchase history (models/clv), every one recorded in the registry.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/features"
	"github.com/parcours/parcours/models/clv"
	"github.com/parcours/parcours/models/registry"
	"github.com/parcours/parcours/orchestration"
)

// Job retrains a kind of model when its promoted model is older than the
// retrain interval (by logical date, so reruns of a date retrain nothing).
type Job struct{}

// New returns the train job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "train", Needs: []string{"features"},
		SQL:       sqlRefs(),
		Doc:       "retrain churn and CLV models when the promoted ones are older than models.retrain_days",
		Placement: orchestration.OnBoth, MergeStage: orchestration.StageModels}
}

// AsOf is the last day of data a model saw (kept in its params).
func AsOf(m *registry.Model) (time.Time, bool) {
	var p struct {
		AsOf string `json:"as_of"`
	}
	if json.Unmarshal(m.Params, &p) != nil || p.AsOf == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, p.AsOf)
	return t, err == nil
}

// Due reports whether a kind needs training for a logical date: when its
// newest model (promoted or not: a candidate that lost is not retried
// every night) saw data older than the retrain interval.
func Due(ctx context.Context, wh *warehouse.Warehouse, kind string, date time.Time, retrainDays int) (bool, error) {
	ms, err := registry.List(ctx, wh.DB, wh.SQL, kind)
	if err != nil {
		return false, err
	}
	if len(ms) == 0 {
		return true, nil
	}
	asOf, ok := AsOf(ms[0])
	return !ok || date.Sub(asOf) >= time.Duration(retrainDays)*24*time.Hour, nil
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	cfg := env.Config.Models
	if env.Shard.Sharded() {
		return j.shardPart(ctx, env)
	}
	if due, err := Due(ctx, env.WH, "clv", env.Date, cfg.RetrainDays); err != nil {
		return c, err
	} else if due {
		m, err := TrainCLV(ctx, env.WH, env.Date, 90)
		switch {
		case errors.Is(err, ErrShortHistory), errors.Is(err, clv.ErrNotConverged):
			// The promoted model (if any) keeps scoring; the run goes on.
			env.Log.Warn().Err(err).Msg("CLV model not trained")
			c.Detail["clv_skipped"] = 1
			c.Notes = append(c.Notes, "CLV model not trained: "+strings.TrimPrefix(err.Error(), "train clv: "))
		case err != nil:
			return c, err
		default:
			c.Out++
			c.Detail["clv_trained"] = 1
			env.Log.Info().Str("model", m.ID).Str("status", m.Status).Msg("CLV model trained")
		}
	}
	if due, err := Due(ctx, env.WH, "churn", env.Date, cfg.RetrainDays); err != nil {
		return c, err
	} else if due {
		// Merged: the shards built the cut-offs' features (shardPart).
		m, err := trainChurn(ctx, env.WH, cfg, env.Date, cfg.ChurnAlgorithm, !env.Merged)
		if errors.Is(err, ErrShortHistory) {
			// Not a failure of the night: the warehouse is younger than two
			// churn horizons. Scoring skips churn until it is not.
			env.Log.Warn().Err(err).Msg("churn model not trained")
			c.Detail["churn_skipped"] = 1
			c.Notes = append(c.Notes, "churn model not trained: "+strings.TrimPrefix(err.Error(), "train churn: "))
			return skipIfIdle(c)
		}
		if err != nil {
			return c, err
		}
		c.Out++
		c.Detail["churn_trained"] = 1
		var met ChurnMetrics
		_ = json.Unmarshal(m.Metrics, &met)
		env.Log.Info().Str("model", m.ID).Str("status", m.Status).Float64("roc_auc", met.ROCAUC).
			Float64("baseline_roc_auc", met.BaselineROCAUC).Msg("churn model trained")
	}
	return skipIfIdle(c)
}

// skipIfIdle turns a night that trained nothing because the data cannot
// support a model yet into a skip, with the reasons.
func skipIfIdle(c orchestration.Counts) (orchestration.Counts, error) {
	if c.Out == 0 && len(c.Notes) > 0 {
		return c, orchestration.Skip("%s", strings.Join(c.Notes, "; "))
	}
	return c, nil
}

// shardPart builds, on a customer shard, the features of the churn
// cut-offs a training due tonight reads; `parcours merge --stage models`
// gathers them with the orders and trains once on every shard's customers.
// The shard's registry is the merged one's copy, so it finds the same due.
func (j *Job) shardPart(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	c := orchestration.Counts{Detail: map[string]int64{}}
	cfg := env.Config.Models
	due, err := Due(ctx, env.WH, "churn", env.Date, cfg.RetrainDays)
	if err != nil || !due {
		return c, err
	}
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	trainCut, evalCut := ChurnCutoffs(env.Date, cfg.ChurnHorizonDays)
	for _, cut := range []time.Time{trainCut, evalCut} {
		n, err := features.Build(ctx, env.WH, conn, cut)
		if err != nil {
			return c, fmt.Errorf("train: features at %s: %w", cut.Format(time.DateOnly), err)
		}
		c.Out += n
		c.Detail["features:"+cut.Format(time.DateOnly)] = n
	}
	return c, nil
}

// ErrShortHistory is returned when there is not enough history to train
// and evaluate a churn model with a time split.
var ErrShortHistory = errors.New("not enough history")
