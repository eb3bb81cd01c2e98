package churn

import (
	"context"
	"fmt"
)

// DefaultTopK is the number of reasons given per customer by default.
const DefaultTopK = 3

// ScoreOptions controls Score. The zero value gives 3 reasons worded by
// DescribeValue and the default bands.
type ScoreOptions struct {
	// TopK is the number of reasons per customer; 0 means DefaultTopK and a
	// negative value means none (contributions are then not computed).
	TopK int
	// Describe words each reason; nil means DescribeValue.
	Describe Describer
	// Bands cut the probability into risk bands; zero means DefaultBands.
	Bands Bands
	// ReasonsFrom restricts reasons to rows whose probability is at least
	// this value (0: every row). Contributions are the costly part of
	// scoring (XGBoost's exact TreeSHAP took about 1 ms per row for the
	// default 100 depth-6 trees on a shared 2-core machine, some 3 minutes
	// for 200,000 customers), so a job that acts only on risky customers
	// can skip the others.
	ReasonsFrom float64
}

// Score is one customer's churn score.
type Score struct {
	ID          string   `json:"id"`
	Probability float64  `json:"probability"`
	Band        string   `json:"band"`
	Reasons     []Reason `json:"reasons"`
}

// Score returns every row's churn probability, risk band and top reasons.
// ids (one per row) may be nil. Columns of x are matched to the model's
// features by name.
func (m *Model) Score(ctx context.Context, x *Matrix, ids []string, opt ScoreOptions) ([]Score, error) {
	if ids != nil && len(ids) != x.Rows {
		return nil, fmt.Errorf("score %s: %d ids for %d rows", m.Algorithm, len(ids), x.Rows)
	}
	if opt.TopK == 0 {
		opt.TopK = DefaultTopK
	}
	if opt.Bands == (Bands{}) {
		opt.Bands = DefaultBands()
	}
	if err := opt.Bands.Validate(); err != nil {
		return nil, fmt.Errorf("score %s: %w", m.Algorithm, err)
	}
	a, err := x.aligned(m.Features)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", m.Algorithm, err)
	}
	p, err := m.s.predict(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", m.Algorithm, err)
	}
	out := make([]Score, a.Rows)
	var explain []int // rows that get reasons
	for i := range out {
		out[i] = Score{Probability: p[i], Band: opt.Bands.Band(p[i])}
		if ids != nil {
			out[i].ID = ids[i]
		}
		if opt.TopK > 0 && p[i] >= opt.ReasonsFrom {
			explain = append(explain, i)
		}
	}
	if len(explain) == 0 {
		return out, nil
	}
	sub := a
	if len(explain) < a.Rows {
		sub = a.selectRows(explain)
	}
	c, err := m.s.contributions(ctx, sub)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", m.Algorithm, err)
	}
	for k, i := range explain {
		out[i].Reasons = TopReasons(c.Row(k), a.Names, a.Row(i), opt.TopK, opt.Describe)
	}
	return out, nil
}

// ScoreDataset scores ds.X with ds.IDs (see Score).
func (m *Model) ScoreDataset(ctx context.Context, ds *Dataset, opt ScoreOptions) ([]Score, error) {
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("score %s: %w", m.Algorithm, err)
	}
	return m.Score(ctx, ds.X, ds.IDs, opt)
}
