package churn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/parcours/parcours/models/churn/xgb"
	"github.com/parcours/parcours/models/eval"
)

// AlgoAuto chooses between logistic regression and XGBoost per table.
const AlgoAuto = "auto"

// Auto chooses between logistic regression and XGBoost by stratified
// k-fold cross-validation on the training data alone (never the holdout),
// then fits the chosen one on all of it. Neither wins everywhere: on
// public churn tables of different shapes one or the other leads by up to
// 0.09 AUC. XGBoost is chosen only when its mean fold ROC AUC beats
// logistic regression's by more than one standard error of the per-fold
// differences (the one-standard-error rule: the simpler model unless the
// richer one is clearly better), since a lead within the folds' noise did
// not survive to a later cut-off on the test sample. Without XGBoost (tag
// noxgboost) it is logistic regression.
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
	// Margin is XGBoost's mean lead over logistic regression and
	// StdErr the standard error of the per-fold leads.
	Margin float64 `json:"xgboost_lead"`
	StdErr float64 `json:"lead_std_err"`
	Note   string  `json:"note,omitempty"`
}

// Algorithm returns "auto"; the fitted model carries the chosen one.
func (a *Auto) Algorithm() string { return AlgoAuto }

// Fit cross-validates both learners on ds, then fits the chosen one on ds.
func (a *Auto) Fit(ctx context.Context, ds *Dataset) (*Model, error) {
	if err := ds.checkTrainable(); err != nil {
		return nil, fmt.Errorf("fit auto: %w", err)
	}
	k := a.Folds
	if k < 2 {
		k = 3
	}
	folds := stratifiedFolds(ds.Y, k, a.Seed)
	choice := &AutoChoice{Algorithm: AlgoLogReg, Folds: k, MeanAUC: map[string]float64{}}
	simple := DefaultLogReg()
	rich := DefaultXGBoost()
	rich.Params.Seed = int64(a.Seed >> 1)
	sa, err := cvAUC(ctx, simple, ds, folds)
	if err != nil {
		return nil, fmt.Errorf("fit auto: cross-validating %s: %w", AlgoLogReg, err)
	}
	choice.MeanAUC[AlgoLogReg] = mean(sa)
	chosen := Learner(simple)
	ra, err := cvAUC(ctx, rich, ds, folds)
	switch {
	case errors.Is(err, xgb.ErrUnavailable):
		choice.Note = "xgboost unavailable in this build"
	case err != nil:
		return nil, fmt.Errorf("fit auto: cross-validating %s: %w", AlgoXGBoost, err)
	default:
		choice.MeanAUC[AlgoXGBoost] = mean(ra)
		lead := make([]float64, k)
		for f := range lead {
			lead[f] = ra[f] - sa[f]
		}
		choice.Margin, choice.StdErr = mean(lead), stdErr(lead)
		if choice.Margin > choice.StdErr {
			chosen, choice.Algorithm = rich, AlgoXGBoost
		}
	}
	a.Chosen = choice
	return chosen.Fit(ctx, ds)
}

// cvAUC is a learner's holdout ROC AUC on each fold.
func cvAUC(ctx context.Context, l Learner, ds *Dataset, folds [][]int) ([]float64, error) {
	aucs := make([]float64, len(folds))
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
			return nil, err
		}
		hold := ds.Subset(test)
		p, err := m.Predict(ctx, hold.X)
		m.Close()
		if err != nil {
			return nil, err
		}
		if aucs[f], err = eval.ROCAUC(hold.Y, p); err != nil {
			return nil, fmt.Errorf("fold %d: %w", f+1, err)
		}
	}
	return aucs, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// stdErr is the standard error of v's mean (sample deviation / sqrt n).
func stdErr(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m, ss := mean(v), 0.0
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss/float64(len(v)-1)) / math.Sqrt(float64(len(v)))
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
