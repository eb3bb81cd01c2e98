package churn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/parcours/parcours/models/churn/xgb"
	"github.com/parcours/parcours/models/eval"
)

// AlgoAuto chooses between logistic regression and XGBoost per table.
const AlgoAuto = "auto"

// Auto chooses between logistic regression and XGBoost by stratified
// k-fold cross-validation on the training data alone (never the holdout),
// then fits the one with the higher mean ROC AUC on all of it. Neither
// wins everywhere: on public churn tables of different shapes one or the
// other leads by up to 0.09 AUC. A tie goes to logistic regression (the
// simpler model). Without XGBoost (tag noxgboost) it is logistic regression.
type Auto struct {
	Folds int
	Seed  uint64
	// Chosen is what the last Fit decided, for the registry.
	Chosen *AutoChoice
}

// AutoChoice is the cross-validation behind a choice.
type AutoChoice struct {
	Algorithm string             `json:"algorithm"`
	Folds     int                `json:"folds"`
	MeanAUC   map[string]float64 `json:"cv_roc_auc"`
	Note      string             `json:"note,omitempty"`
}

// Algorithm returns "auto"; the fitted model carries the chosen one.
func (a *Auto) Algorithm() string { return AlgoAuto }

// candidates are the learners Auto compares, in tie-break order.
func (a *Auto) candidates() []Learner {
	x := DefaultXGBoost()
	x.Params.Seed = int64(a.Seed >> 1)
	return []Learner{DefaultLogReg(), x}
}

// Fit cross-validates the candidates on ds, then fits the winner on ds.
func (a *Auto) Fit(ctx context.Context, ds *Dataset) (*Model, error) {
	if err := ds.checkTrainable(); err != nil {
		return nil, fmt.Errorf("fit auto: %w", err)
	}
	k := a.Folds
	if k < 2 {
		k = 3
	}
	folds := stratifiedFolds(ds.Y, k, a.Seed)
	choice := &AutoChoice{Folds: k, MeanAUC: map[string]float64{}}
	best, bestAUC := Learner(nil), -1.0
	for _, l := range a.candidates() {
		auc, err := cvAUC(ctx, l, ds, folds)
		if errors.Is(err, xgb.ErrUnavailable) {
			choice.Note = "xgboost unavailable in this build"
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fit auto: cross-validating %s: %w", l.Algorithm(), err)
		}
		choice.MeanAUC[l.Algorithm()] = auc
		if auc > bestAUC {
			best, bestAUC = l, auc
		}
	}
	if best == nil {
		return nil, fmt.Errorf("fit auto: no learner could be cross-validated")
	}
	choice.Algorithm = best.Algorithm()
	a.Chosen = choice
	return best.Fit(ctx, ds)
}

// cvAUC is a learner's mean holdout ROC AUC over the folds.
func cvAUC(ctx context.Context, l Learner, ds *Dataset, folds [][]int) (float64, error) {
	sum := 0.0
	for f, test := range folds {
		var train []int
		for g, rows := range folds {
			if g != f {
				train = append(train, rows...)
			}
		}
		slices.Sort(train)
		m, err := l.Fit(ctx, ds.Subset(train))
		if err != nil {
			return 0, err
		}
		hold := ds.Subset(test)
		p, err := m.Predict(ctx, hold.X)
		m.Close()
		if err != nil {
			return 0, err
		}
		auc, err := eval.ROCAUC(hold.Y, p)
		if err != nil {
			return 0, fmt.Errorf("fold %d: %w", f+1, err)
		}
		sum += auc
	}
	return sum / float64(len(folds)), nil
}

// stratifiedFolds deals each class's rows, shuffled by seed, round-robin
// into k folds (increasing row order within a fold).
func stratifiedFolds(y []float64, k int, seed uint64) [][]int {
	rng := rand.New(rand.NewPCG(seed, 0x666f6c6473)) // stream "folds"
	folds := make([][]int, k)
	for _, class := range []float64{0, 1} {
		var idx []int
		for i, v := range y {
			if v == class {
				idx = append(idx, i)
			}
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for j, i := range idx {
			folds[j%k] = append(folds[j%k], i)
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}
