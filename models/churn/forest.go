package churn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/parcours/parcours/internal/parallel"
)

// Forest is a random forest of golearn's ID3 decision trees
// (github.com/sjwhitworth/golearn/trees), built the way golearn's
// ensemble.RandomForest builds one (each tree grown, unpruned, on a
// bootstrap sample of the rows and a random subset of the features) but
// with the bagging done here, because golearn's BaggedModel draws from the
// global math/rand (not seedable per model), grows trees in goroutines that
// race for it, and only returns majority votes. Splits use infoGainRule,
// golearn's information-gain criterion with deterministic tie-breaking.
//
//   - Missing values are imputed with the training mean before fitting and
//     scoring; golearn cannot handle NaN.
//   - Training uses at most MaxRows rows, a seeded stratified sample of the
//     dataset, because golearn's trees are slow (each node re-sorts its rows
//     per feature through golearn's generic instance views).
//   - The probability is the share of trees voting churn; a leaf whose
//     training rows tie counts half a vote.
//   - golearn's ID3 splits a numeric feature at most once on any path, so a
//     tree over k features is at most k−1 levels deep.
//   - Trees lack native contributions, so a model-agnostic one is used: for
//     feature j, logit(p(x)) − logit(p(x with x_j set to its training
//     mean)), on the vote share smoothed as (votes + 0.5)/(trees + 1) to keep
//     the log-odds finite. The bias is the smoothed log-odds of the all-means
//     row. These one-at-a-time differences need not add up to the score.
//
// The parts of golearn used here print nothing.
type Forest struct {
	// Trees is the number of trees.
	Trees int `json:"trees"`
	// FeaturesPerTree is the number of features drawn for each tree (at
	// least 2); 0 means DefaultFeaturesPerTree(features).
	FeaturesPerTree int `json:"features_per_tree"`
	// MaxRows caps the training rows (seeded stratified sample).
	MaxRows int `json:"max_rows"`
	// Seed drives the sample, the bootstraps and the feature draws.
	Seed uint64 `json:"seed"`
}

// DefaultForest returns 100 trees trained on at most 20,000 rows.
func DefaultForest() Forest { return Forest{Trees: 100, MaxRows: 20000} }

// DefaultFeaturesPerTree is the number of features each tree sees when
// Forest.FeaturesPerTree is 0: ⌈√p⌉ + 1 (at least 2, at most p), one more
// than the usual √p because golearn's trees draw features per tree rather
// than per split and use each at most once per path.
func DefaultFeaturesPerTree(p int) int {
	return min(max(int(math.Ceil(math.Sqrt(float64(p))))+1, 2), p)
}

// Algorithm returns "forest".
func (f Forest) Algorithm() string { return AlgoForest }

// forestState is the fitted forest, as saved: the imputation means and the
// trees converted from golearn's node maps into flat arrays.
type forestState struct {
	Params Forest `json:"params"`
	// SampleRows is the number of rows the trees were grown from.
	SampleRows int        `json:"sample_rows"`
	Means      []float64  `json:"means"`
	Trees      []flatTree `json:"trees"`
}

// Fit samples, imputes and grows the trees (in parallel; the result does
// not depend on scheduling, since tree t draws from its own seeded stream).
func (f Forest) Fit(ctx context.Context, ds *Dataset) (*Model, error) {
	if err := ds.checkTrainable(); err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	p := ds.X.Cols()
	if f.FeaturesPerTree == 0 {
		f.FeaturesPerTree = DefaultFeaturesPerTree(p)
	}
	switch {
	case f.Trees < 1:
		return nil, fmt.Errorf("fit forest: %d trees", f.Trees)
	case f.FeaturesPerTree < 2 || f.FeaturesPerTree > p:
		return nil, fmt.Errorf("fit forest: %d features per tree, need 2..%d", f.FeaturesPerTree, p)
	case f.MaxRows < 2:
		return nil, fmt.Errorf("fit forest: max rows %d < 2", f.MaxRows)
	}
	rows, err := StratifiedSample(ds.Y, f.MaxRows, f.Seed)
	if err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	sample := ds.Subset(rows)
	st := &forestState{Params: f, SampleRows: len(rows), Means: columnMeans(sample.X)}
	x := sample.X
	for i := range x.Rows {
		st.impute(x.Row(i))
	}
	st.Trees = make([]flatTree, f.Trees)
	err = parallel.Chunks(ctx, f.Trees, 1, func(t, _ int) error {
		rng := rand.New(rand.NewPCG(f.Seed, uint64(t)+1))
		feats := rng.Perm(p)[:f.FeaturesPerTree]
		slices.Sort(feats)
		boot := make([]int, x.Rows)
		for i := range boot {
			boot[i] = rng.IntN(x.Rows)
		}
		_, flat, err := growTree(x, sample.Y, boot, feats)
		if err != nil {
			return fmt.Errorf("tree %d: %w", t, err)
		}
		st.Trees[t] = flat
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	return newModel(AlgoForest, ds, st), nil
}

// impute replaces NaN in row with the training means.
func (s *forestState) impute(row []float64) {
	for j, v := range row {
		if math.IsNaN(v) {
			row[j] = s.Means[j]
		}
	}
}

// votes returns the number of trees voting churn for an imputed row.
func (s *forestState) votes(row []float64) float64 {
	var v float64
	for t := range s.Trees {
		v += s.Trees[t].vote(row, -1, 0)
	}
	return v
}

// smoothedLogit is the log-odds of (votes + 0.5)/(trees + 1).
func (s *forestState) smoothedLogit(votes float64) float64 {
	return logit((votes + 0.5) / (float64(len(s.Trees)) + 1))
}

// scoreRows is the chunk size for parallel scoring.
const scoreRows = 4096

func (s *forestState) predict(ctx context.Context, x *Matrix) ([]float64, error) {
	out := make([]float64, x.Rows)
	err := parallel.Chunks(ctx, x.Rows, scoreRows, func(lo, hi int) error {
		row := make([]float64, x.Cols())
		for i := lo; i < hi; i++ {
			copy(row, x.Row(i))
			s.impute(row)
			out[i] = s.votes(row) / float64(len(s.Trees))
		}
		return nil
	})
	return out, err
}

func (s *forestState) contributions(ctx context.Context, x *Matrix) (*Contributions, error) {
	k := x.Cols()
	c := &Contributions{Features: x.Names, Rows: x.Rows, Values: make([]float64, x.Rows*k), Bias: make([]float64, x.Rows)}
	bias := s.smoothedLogit(s.votes(s.Means))
	// byFeature[j] lists the trees that split on feature j: replacing x_j
	// changes only their votes.
	byFeature := make([][]int, k)
	for t := range s.Trees {
		for _, j := range s.Trees[t].Uses {
			byFeature[j] = append(byFeature[j], t)
		}
	}
	err := parallel.Chunks(ctx, x.Rows, scoreRows, func(lo, hi int) error {
		row := make([]float64, k)
		treeVotes := make([]float64, len(s.Trees))
		for i := lo; i < hi; i++ {
			copy(row, x.Row(i))
			s.impute(row)
			var total float64
			for t := range s.Trees {
				treeVotes[t] = s.Trees[t].vote(row, -1, 0)
				total += treeVotes[t]
			}
			full := s.smoothedLogit(total)
			dst := c.Row(i)
			for j, ts := range byFeature {
				if row[j] == s.Means[j] {
					continue // replacing by the mean changes nothing
				}
				alt := total
				for _, t := range ts {
					alt += s.Trees[t].vote(row, j, s.Means[j]) - treeVotes[t]
				}
				dst[j] = full - s.smoothedLogit(alt)
			}
			c.Bias[i] = bias
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *forestState) additive() bool { return false }

func (s *forestState) close() error { return nil }
