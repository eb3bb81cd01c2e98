package churn

import (
	"context"
	"fmt"

	"github.com/parcours/parcours/models/eval"
)

// Evaluate scores a labelled dataset and returns its metrics (ROC AUC, PR
// AUC, lift, calibration, ...), e.g. on a later cut-off than training.
func (m *Model) Evaluate(ctx context.Context, ds *Dataset) (eval.Metrics, error) {
	if err := ds.Validate(); err != nil {
		return eval.Metrics{}, fmt.Errorf("evaluate %s: %w", m.Algorithm, err)
	}
	if ds.Y == nil {
		return eval.Metrics{}, fmt.Errorf("evaluate %s: dataset has no labels", m.Algorithm)
	}
	p, err := m.Predict(ctx, ds.X)
	if err != nil {
		return eval.Metrics{}, fmt.Errorf("evaluate %s: %w", m.Algorithm, err)
	}
	mt, err := eval.Evaluate(ds.Y, p)
	if err != nil {
		return eval.Metrics{}, fmt.Errorf("evaluate %s: %w", m.Algorithm, err)
	}
	return mt, nil
}

// HoldoutOptions controls FitHoldout.
type HoldoutOptions struct {
	// Fraction is the share of rows held out; 0 means 0.25.
	Fraction float64
	// Seed drives the stratified split.
	Seed uint64
	// RecencyFeature, when set, also fits the recency Baseline on the same
	// split and reports its holdout metrics for comparison.
	RecencyFeature string
}

// HoldoutReport is the outcome of FitHoldout, ready for JSON.
type HoldoutReport struct {
	Algorithm   string  `json:"algorithm"`
	Fraction    float64 `json:"holdout_fraction"`
	Seed        uint64  `json:"seed"`
	TrainRows   int     `json:"train_rows"`
	HoldoutRows int     `json:"holdout_rows"`
	// Train is measured on the training rows (optimistic; compare with
	// Holdout to see overfitting).
	Train   eval.Metrics `json:"train"`
	Holdout eval.Metrics `json:"holdout"`
	// Baseline holds the recency baseline's holdout metrics when asked for.
	Baseline *eval.Metrics `json:"recency_baseline,omitempty"`
	// Auto is auto's cross-validation and choice, when it was the learner.
	Auto *AutoChoice `json:"auto,omitempty"`
}

// FitHoldout splits ds into stratified train and holdout parts (seeded),
// fits l on the train part and measures it on both. The returned model is
// the one trained on the train part, so the holdout metrics describe
// exactly the model that is saved.
func FitHoldout(ctx context.Context, l Learner, ds *Dataset, opt HoldoutOptions) (*Model, *HoldoutReport, error) {
	if opt.Fraction == 0 {
		opt.Fraction = 0.25
	}
	if err := ds.checkTrainable(); err != nil {
		return nil, nil, fmt.Errorf("fit holdout: %w", err)
	}
	trainIdx, holdIdx, err := StratifiedSplit(ds.Y, opt.Fraction, opt.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("fit holdout: %w", err)
	}
	train, hold := ds.Subset(trainIdx), ds.Subset(holdIdx)
	m, err := l.Fit(ctx, train)
	if err != nil {
		return nil, nil, fmt.Errorf("fit holdout: %w", err)
	}
	rep := &HoldoutReport{Algorithm: l.Algorithm(), Fraction: opt.Fraction, Seed: opt.Seed, TrainRows: len(trainIdx), HoldoutRows: len(holdIdx)}
	if a, ok := l.(*Auto); ok {
		rep.Auto = a.Chosen
	}
	if rep.Train, err = m.Evaluate(ctx, train); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("fit holdout: train: %w", err)
	}
	if rep.Holdout, err = m.Evaluate(ctx, hold); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("fit holdout: holdout: %w", err)
	}
	if opt.RecencyFeature != "" {
		b, err := Baseline{RecencyFeature: opt.RecencyFeature}.Fit(ctx, train)
		if err != nil {
			m.Close()
			return nil, nil, fmt.Errorf("fit holdout: %w", err)
		}
		bm, err := b.Evaluate(ctx, hold)
		if err != nil {
			m.Close()
			return nil, nil, fmt.Errorf("fit holdout: baseline: %w", err)
		}
		rep.Baseline = &bm
	}
	return m, rep, nil
}
