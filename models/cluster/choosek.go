package cluster

import (
	"context"
	"fmt"

	"github.com/parcours/parcours/internal/parallel"
)

// KScore is the outcome of one k tried by ChooseK.
type KScore struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
	Inertia    float64 `json:"inertia"`
}

// ChooseK runs KMeans for every k in [kmin, kmax] (opts.K is ignored) and
// returns the partition with the highest silhouette, with the scores of all
// k in increasing k. Ties go to the smaller k: fewer segments are easier to
// act on. kmin must be at least 2, where the silhouette is defined.
//
// The k-means restarts of every k run in parallel, and the silhouettes of
// all k share one pass over the pairs; the result is that of trying each
// k in turn.
func ChooseK(ctx context.Context, points [][]float64, kmin, kmax int, opts Options, sil SilhouetteOptions) (*Result, []KScore, error) {
	if kmin < 2 || kmax < kmin || kmax >= len(points) {
		return nil, nil, fmt.Errorf("choose k: need 2 <= kmin <= kmax < %d points, got [%d, %d]", len(points), kmin, kmax)
	}
	nk := kmax - kmin + 1
	kopts := make([]Options, nk)
	tols := make([]float64, nk)
	for i := range nk {
		o := opts
		o.K = kmin + i
		var err error
		if kopts[i], tols[i], err = kmeansSetup(points, o); err != nil {
			return nil, nil, fmt.Errorf("choose k: k=%d: %w", o.K, err)
		}
	}
	fp := flatten(points)
	runs := make([][]*Result, nk)
	errs := make([][]error, nk)
	var tasks [][2]int // (k index, restart), largest k first: the longest go first
	for i := nk - 1; i >= 0; i-- {
		runs[i] = make([]*Result, kopts[i].Restarts)
		errs[i] = make([]error, kopts[i].Restarts)
		for r := range kopts[i].Restarts {
			tasks = append(tasks, [2]int{i, r})
		}
	}
	parallel.For(len(tasks), func(t int) {
		i, r := tasks[t][0], tasks[t][1]
		runs[i][r], errs[i][r] = kmeansStart(ctx, points, fp, kopts[i], r, tols[i])
	})
	results := make([]*Result, nk)
	kerrs := make([]error, nk)
	var labelings [][]int
	var scoredAt []int
	for i := range nk {
		if results[i], kerrs[i] = bestStart(runs[i], errs[i]); kerrs[i] == nil {
			labelings, scoredAt = append(labelings, results[i].Labels), append(scoredAt, i)
		}
	}
	sils := make([]float64, nk)
	serrs := make([]error, nk)
	got, gotErrs := silhouettes(ctx, points, labelings, sil)
	for q, i := range scoredAt {
		sils[i], serrs[i] = got[q], gotErrs[q]
	}

	var best *Result
	bestScore := 0.0
	scores := make([]KScore, 0, nk)
	for i := range nk {
		k := kmin + i
		if kerrs[i] != nil {
			return nil, nil, fmt.Errorf("choose k: k=%d: %w", k, kerrs[i])
		}
		if serrs[i] != nil {
			return nil, nil, fmt.Errorf("choose k: k=%d: %w", k, serrs[i])
		}
		res, s := results[i], sils[i]
		scores = append(scores, KScore{K: k, Silhouette: s, Inertia: res.Inertia})
		if best == nil || s > bestScore {
			best, bestScore = res, s
		}
	}
	return best, scores, nil
}
