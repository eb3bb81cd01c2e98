package churn

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Baseline scores churn from recency alone: the training rows are cut into
// deciles of the recency feature and each decile's churn rate, made
// monotone (isotonic regression, increasing or decreasing, whichever fits
// the training rates better), is the probability for any row falling in it.
// Rows with a missing recency get the churn rate of such rows in training.
// Each rate is shrunk by one pseudo-row at the overall rate, (positives +
// rate) / (rows + 1), so that no probability is exactly 0 or 1.
//
// Any model worth keeping must beat it. Its contributions put the whole
// score on the recency feature: logit(p) − logit(overall rate), with the
// overall rate's log-odds as the bias.
type Baseline struct {
	// RecencyFeature names the recency column, e.g. "days_since_last_order".
	RecencyFeature string `json:"recency_feature"`
	// Bins is the number of quantile bins; 0 means 10 (deciles).
	Bins int `json:"bins"`
}

// Algorithm returns "recency-baseline".
func (b Baseline) Algorithm() string { return AlgoBaseline }

// baselineState is the fitted baseline, as saved.
type baselineState struct {
	Params Baseline `json:"params"`
	// Column is the position of the recency feature among the features.
	Column int `json:"column"`
	// Cuts are the upper edges of every bin but the last: bin k holds
	// values in (Cuts[k−1], Cuts[k]].
	Cuts        []float64 `json:"cuts"`
	Rates       []float64 `json:"rates"`
	MissingRate float64   `json:"missing_rate"`
	BaseRate    float64   `json:"base_rate"`
	Increasing  bool      `json:"increasing"`
}

// Fit learns the bins and their rates.
func (b Baseline) Fit(ctx context.Context, ds *Dataset) (*Model, error) {
	if err := ds.checkTrainable(); err != nil {
		return nil, fmt.Errorf("fit recency baseline: %w", err)
	}
	if b.Bins == 0 {
		b.Bins = 10
	}
	if b.Bins < 2 {
		return nil, fmt.Errorf("fit recency baseline: %d bins < 2", b.Bins)
	}
	col := ds.X.Index(b.RecencyFeature)
	if col < 0 {
		return nil, fmt.Errorf("fit recency baseline: recency feature %q is not among the features", b.RecencyFeature)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fit recency baseline: %w", err)
	}
	st := &baselineState{Params: b, Column: col}
	st.BaseRate = float64(ds.Positives()) / float64(len(ds.Y))

	var values []float64
	var missPos, missN float64
	for i := range ds.X.Rows {
		v := ds.X.At(i, col)
		if math.IsNaN(v) {
			missN++
			missPos += ds.Y[i]
			continue
		}
		values = append(values, v)
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("fit recency baseline: recency feature %q has no values", b.RecencyFeature)
	}
	st.MissingRate = (missPos + st.BaseRate) / (missN + 1)

	sorted := slices.Clone(values)
	slices.Sort(sorted)
	for k := 1; k < b.Bins; k++ {
		// Type-1 quantile: the smallest value with at least k/Bins of the
		// rows at or below it.
		q := sorted[max(int(math.Ceil(float64(k)*float64(len(sorted))/float64(b.Bins)))-1, 0)]
		if len(st.Cuts) == 0 || q > st.Cuts[len(st.Cuts)-1] {
			st.Cuts = append(st.Cuts, q)
		}
	}
	if st.Cuts[len(st.Cuts)-1] == sorted[len(sorted)-1] {
		st.Cuts = st.Cuts[:len(st.Cuts)-1] // the last bin would be empty
	}
	nb := len(st.Cuts) + 1
	pos := make([]float64, nb)
	cnt := make([]float64, nb)
	for i := range ds.X.Rows {
		if v := ds.X.At(i, col); !math.IsNaN(v) {
			k := st.bin(v)
			pos[k] += ds.Y[i]
			cnt[k]++
		}
	}
	raw := make([]float64, nb)
	for k := range raw {
		raw[k] = (pos[k] + st.BaseRate) / (cnt[k] + 1)
	}
	up := isotonic(raw, cnt, true)
	down := isotonic(raw, cnt, false)
	st.Increasing = weightedSSE(raw, up, cnt) <= weightedSSE(raw, down, cnt)
	st.Rates = down
	if st.Increasing {
		st.Rates = up
	}
	return newModel(AlgoBaseline, ds, st), nil
}

// bin returns the bin of a recency value.
func (s *baselineState) bin(v float64) int { return sort.SearchFloat64s(s.Cuts, v) }

func (s *baselineState) rate(v float64) float64 {
	if math.IsNaN(v) {
		return s.MissingRate
	}
	return s.Rates[s.bin(v)]
}

func (s *baselineState) predict(ctx context.Context, x *Matrix) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]float64, x.Rows)
	for i := range out {
		out[i] = s.rate(x.At(i, s.Column))
	}
	return out, nil
}

func (s *baselineState) contributions(ctx context.Context, x *Matrix) (*Contributions, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &Contributions{Features: x.Names, Rows: x.Rows, Values: make([]float64, len(x.Data)), Bias: make([]float64, x.Rows)}
	bias := logit(s.BaseRate)
	for i := range x.Rows {
		c.Row(i)[s.Column] = logit(s.rate(x.At(i, s.Column))) - bias
		c.Bias[i] = bias
	}
	return c, nil
}

func (s *baselineState) additive() bool { return true }

func (s *baselineState) close() error { return nil }

// isotonic returns the weighted least-squares fit to v that is
// non-decreasing (or non-increasing), by pooling adjacent violators.
func isotonic(v, w []float64, increasing bool) []float64 {
	type block struct {
		sum, weight float64
		n           int
	}
	sign := 1.0
	if !increasing {
		sign = -1
	}
	var blocks []block
	for i := range v {
		wt := max(w[i], 1e-12) // empty bins still hold their place
		blocks = append(blocks, block{sign * v[i] * wt, wt, 1})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sum/a.weight <= b.sum/b.weight {
				break
			}
			blocks = append(blocks[:len(blocks)-2], block{a.sum + b.sum, a.weight + b.weight, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(v))
	for _, b := range blocks {
		for range b.n {
			out = append(out, sign*b.sum/b.weight)
		}
	}
	return out
}

func weightedSSE(v, fit, w []float64) float64 {
	var s float64
	for i := range v {
		d := v[i] - fit[i]
		s += w[i] * d * d
	}
	return s
}
