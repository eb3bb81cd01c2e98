package train

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/features"
	"github.com/parcours/parcours/models/churn"
	"github.com/parcours/parcours/models/eval"
	"github.com/parcours/parcours/models/registry"
)

// ChurnMetrics is what the registry keeps of a churn model: its holdout
// evaluation and the recency baseline's on the same holdout.
type ChurnMetrics struct {
	eval.Metrics
	BaselineROCAUC float64 `json:"baseline_roc_auc"`
	TrainRows      int     `json:"train_rows"`
	TrainChurnRate float64 `json:"train_churn_rate"`
	// Auto is the cross-validation that chose the learner (algo auto).
	Auto *churn.AutoChoice `json:"auto,omitempty"`
}

// ChurnCutoffs are the time split of a training run as of a day: labels of
// the evaluation cut-off are fully observed by the end of asOf, and the
// training cut-off is one horizon earlier (its labels end before the
// evaluation cut-off, so nothing of the evaluation period trains the model).
func ChurnCutoffs(asOf time.Time, horizon int) (trainCut, evalCut time.Time) {
	evalCut = asOf.AddDate(0, 0, 1-horizon)
	return evalCut.AddDate(0, 0, -horizon), evalCut
}

// Labelled is the features and labels of one cut-off.
func Labelled(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cutoff time.Time, horizon int) (*churn.Dataset, error) {
	return labelled(ctx, wh, conn, cutoff, horizon, 0, true)
}

// labelled reads a cut-off's features, building them first unless they
// were built elsewhere (by the shards, for a merged training).
func labelled(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cutoff time.Time, horizon, sample int, build bool) (*churn.Dataset, error) {
	if build {
		if _, err := features.Build(ctx, wh, conn, cutoff); err != nil {
			return nil, err
		}
	}
	// Labels of a horizon not over yet would call everyone who simply has
	// not bought yet "churned".
	if err := features.LabelsComplete(ctx, wh, conn, cutoff, horizon); errors.Is(err, features.ErrNoData) || errors.Is(err, features.ErrIncomplete) {
		return nil, fmt.Errorf("%w: %w", ErrShortHistory, err)
	} else if err != nil {
		return nil, err
	}
	tab, err := features.Load(ctx, wh, conn, cutoff, sample)
	if err != nil {
		return nil, err
	}
	labels, err := features.Labels(ctx, wh, conn, cutoff, horizon)
	if err != nil {
		return nil, err
	}
	y := make([]float64, len(tab.Customers))
	for i, c := range tab.Customers {
		y[i] = labels[c]
	}
	canonicalRows(tab, y)
	x, err := churn.MatrixFromRows(tab.Names, tab.Values)
	if err != nil {
		return nil, err
	}
	return churn.NewDataset(x, y, tab.Customers)
}

// canonicalRows orders a cut-off's rows by label then feature values, not
// by customer key: keys are pseudonyms of a secret pepper, and a learner's
// floating-point sums, seeded draws and ties follow row order, so a model
// trained in key order would depend on the pepper. Rows equal in every
// value are interchangeable, so this order is a function of the data.
func canonicalRows(tab *features.Table, y []float64) {
	n, w := len(tab.Customers), len(tab.Names)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	row := func(i int) []float64 { return tab.Values[i*w : (i+1)*w] }
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmp.Compare(y[a], y[b]); c != 0 {
			return c
		}
		return slices.Compare(row(a), row(b))
	})
	customers, values, labels := make([]string, n), make([]float64, 0, len(tab.Values)), make([]float64, n)
	for k, i := range idx {
		customers[k], labels[k] = tab.Customers[i], y[i]
		values = append(values, row(i)...)
	}
	tab.Customers, tab.Values = customers, values
	copy(y, labels)
}

// Learner returns the configured learner; "recency" is the baseline rule.
func Learner(algo string, seed uint64) (churn.Learner, error) {
	if algo == "recency" || algo == churn.AlgoBaseline {
		return churn.Baseline{RecencyFeature: "recency_days"}, nil
	}
	return churn.NewLearner(algo, seed)
}

// TrainChurn trains a churn model as of a day with a time split, evaluates
// it and the recency baseline on the later cut-off, registers it, and
// promotes it when its holdout ROC AUC is not worse than the promoted
// model's (minus the tolerance).
func TrainChurn(ctx context.Context, wh *warehouse.Warehouse, cfg config.Models, asOf time.Time, algo string) (*registry.Model, error) {
	return trainChurn(ctx, wh, cfg, asOf, algo, true)
}

func trainChurn(ctx context.Context, wh *warehouse.Warehouse, cfg config.Models, asOf time.Time, algo string, build bool) (*registry.Model, error) {
	conn, err := wh.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	trainCut, evalCut := ChurnCutoffs(asOf, cfg.ChurnHorizonDays)
	train, err := labelled(ctx, wh, conn, trainCut, cfg.ChurnHorizonDays, cfg.ChurnTrainSample, build)
	if err != nil {
		return nil, fmt.Errorf("train churn: %w", err)
	}
	test, err := labelled(ctx, wh, conn, evalCut, cfg.ChurnHorizonDays, cfg.ChurnTrainSample, build)
	if err != nil {
		return nil, fmt.Errorf("train churn: %w", err)
	}
	for _, ds := range []*churn.Dataset{train, test} {
		pos := 0.0
		for _, v := range ds.Y {
			pos += v
		}
		if pos == 0 || pos == float64(len(ds.Y)) {
			return nil, fmt.Errorf("train churn: %w: every customer has the same label at one cut-off", ErrShortHistory)
		}
	}
	if train.X.Rows < 50 || test.X.Rows < 50 {
		return nil, fmt.Errorf("train churn: %w: %d customers at %s and %d at %s (it needs %d days of purchases before %s)",
			ErrShortHistory, train.X.Rows, trainCut.Format(time.DateOnly), test.X.Rows, evalCut.Format(time.DateOnly),
			2*cfg.ChurnHorizonDays, asOf.Format(time.DateOnly))
	}
	l, err := Learner(algo, cfg.Seed)
	if err != nil {
		return nil, err
	}
	m, err := l.Fit(ctx, train)
	if err != nil {
		return nil, fmt.Errorf("train churn %s: %w", algo, err)
	}
	defer m.Close()
	met, err := m.Evaluate(ctx, test)
	if err != nil {
		return nil, err
	}
	base, err := churn.Baseline{RecencyFeature: "recency_days"}.Fit(ctx, train)
	if err != nil {
		return nil, err
	}
	defer base.Close()
	bm, err := base.Evaluate(ctx, test)
	if err != nil {
		return nil, err
	}
	pos := 0.0
	for _, v := range train.Y {
		pos += v
	}
	cm := ChurnMetrics{Metrics: met, BaselineROCAUC: bm.ROCAUC, TrainRows: train.X.Rows, TrainChurnRate: pos / float64(train.X.Rows)}
	if a, ok := l.(*churn.Auto); ok {
		cm.Auto = a.Chosen
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	id := registry.NewID("churn", m.Algorithm, now)
	art, err := registry.SaveArtifact(wh.Dir, id, b)
	if err != nil {
		return nil, err
	}
	metrics, _ := json.Marshal(cm)
	params, _ := json.Marshal(map[string]any{"horizon_days": cfg.ChurnHorizonDays, "seed": cfg.Seed, "as_of": asOf.Format(time.DateOnly)})
	promote, decision := true, fmt.Sprintf("promoted: the first churn model (holdout ROC AUC %.3f, recency baseline %.3f)", cm.ROCAUC, cm.BaselineROCAUC)
	if cur, err := registry.Promoted(ctx, wh.DB, wh.SQL, "churn"); err == nil {
		var cmet ChurnMetrics
		if json.Unmarshal(cur.Metrics, &cmet) == nil {
			if cm.ROCAUC < cmet.ROCAUC-cfg.PromoteTolerance {
				promote = false
				decision = fmt.Sprintf("not promoted: holdout ROC AUC %.3f is below the promoted %s's %.3f minus the tolerance %.3f",
					cm.ROCAUC, cur.ID, cmet.ROCAUC, cfg.PromoteTolerance)
			} else {
				decision = fmt.Sprintf("promoted: holdout ROC AUC %.3f against the promoted %s's %.3f (tolerance %.3f)",
					cm.ROCAUC, cur.ID, cmet.ROCAUC, cfg.PromoteTolerance)
			}
		}
	} else if !errors.Is(err, registry.ErrNotFound) {
		return nil, err
	}
	if a := cm.Auto; a != nil {
		var cv []string
		for _, algo := range []string{churn.AlgoLogReg, churn.AlgoXGBoost} {
			if v, ok := a.MeanAUC[algo]; ok {
				cv = append(cv, fmt.Sprintf("%s %.3f", algo, v))
			}
		}
		decision += fmt.Sprintf("; %s chosen by %d-fold cross-validation on the training cut-off (ROC AUC %s)", a.Algorithm, a.Folds, strings.Join(cv, ", "))
	}
	rm := &registry.Model{ID: id, Kind: "churn", Algorithm: m.Algorithm, Params: params, TrainCutoff: &trainCut,
		EvalCutoff: &evalCut, Features: m.Features, Metrics: metrics, Artifact: art, CreatedAt: now.UTC(), Decision: decision}
	if err := registry.Register(ctx, wh.DB, wh.SQL, rm); err != nil {
		return nil, err
	}
	if promote {
		if err := registry.Promote(ctx, wh.DB, wh.SQL, id, decision); err != nil {
			return nil, err
		}
		rm.Status = "promoted"
	}
	return rm, nil
}
