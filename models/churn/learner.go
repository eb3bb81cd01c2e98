package churn

import (
	"context"
	"fmt"
	"math"
)

// Algorithm names, as used on the command line and in model files.
const (
	AlgoLogReg   = "logreg"
	AlgoXGBoost  = "xgboost"
	AlgoForest   = "forest"
	AlgoBaseline = "recency-baseline"
)

// Learner fits a churn model to a labelled dataset.
type Learner interface {
	// Algorithm returns the algorithm name stored in the model.
	Algorithm() string
	// Fit trains on ds (labels required) and returns the model.
	Fit(ctx context.Context, ds *Dataset) (*Model, error)
}

// NewLearner returns the named learner (auto, logreg, xgboost or forest) with its
// default settings; seed drives its random choices (XGBoost sampling, the
// forest's bootstrap and feature draws). The recency baseline needs a
// feature name, so it is built directly as Baseline{RecencyFeature: ...}.
func NewLearner(algo string, seed uint64) (Learner, error) {
	switch algo {
	case AlgoLogReg:
		return DefaultLogReg(), nil
	case AlgoXGBoost:
		l := DefaultXGBoost()
		l.Params.Seed = int64(seed & math.MaxInt64) // XGBoost's seed is an int64
		return l, nil
	case AlgoForest:
		l := DefaultForest()
		l.Seed = seed
		return l, nil
	case AlgoAuto:
		return &Auto{Folds: 3, Seed: seed}, nil
	case AlgoBaseline:
		return nil, fmt.Errorf("learner %q needs the recency feature: use churn.Baseline{RecencyFeature: ...}", algo)
	}
	return nil, fmt.Errorf("unknown learner %q (want %s, %s, %s or %s)", algo, AlgoAuto, AlgoLogReg, AlgoXGBoost, AlgoForest)
}
