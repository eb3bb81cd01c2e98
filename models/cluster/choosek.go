package cluster

import (
	"context"
	"fmt"
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
func ChooseK(ctx context.Context, points [][]float64, kmin, kmax int, opts Options, sil SilhouetteOptions) (*Result, []KScore, error) {
	if kmin < 2 || kmax < kmin || kmax >= len(points) {
		return nil, nil, fmt.Errorf("choose k: need 2 <= kmin <= kmax < %d points, got [%d, %d]", len(points), kmin, kmax)
	}
	var best *Result
	bestScore := 0.0
	scores := make([]KScore, 0, kmax-kmin+1)
	for k := kmin; k <= kmax; k++ {
		o := opts
		o.K = k
		res, err := KMeans(ctx, points, o)
		if err != nil {
			return nil, nil, fmt.Errorf("choose k: k=%d: %w", k, err)
		}
		s, err := Silhouette(ctx, points, res.Labels, sil)
		if err != nil {
			return nil, nil, fmt.Errorf("choose k: k=%d: %w", k, err)
		}
		scores = append(scores, KScore{K: k, Silhouette: s, Inertia: res.Inertia})
		if best == nil || s > bestScore {
			best, bestScore = res, s
		}
	}
	return best, scores, nil
}
