package cluster

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Defaults for the zero values of SilhouetteOptions.
const (
	defaultMaxExact   = 5000
	defaultSampleSize = 5000
)

// SilhouetteOptions says when the silhouette is exact and how it is sampled
// beyond that.
type SilhouetteOptions struct {
	// MaxExact is the largest number of points scored exactly, over all
	// pairs (O(n²) distances). 0 means 5,000.
	MaxExact int
	// SampleSize is the number of points drawn, without replacement and
	// uniformly, when there are more than MaxExact; the score is then the
	// exact silhouette of the sample among itself (as scikit-learn's
	// sample_size), an estimate whose standard error is about
	// sd(s(i))/√SampleSize. 0 means 5,000.
	SampleSize int
	// Seed fixes the sample; for a given n and seed it is the same whatever
	// the labels, so scores of different k are compared on the same points.
	Seed uint64
}

// Silhouette returns the mean silhouette coefficient of the labelling
// (Rousseeuw 1987) with Euclidean distances: for each point,
// s = (b - a)/max(a, b), where a is its mean distance to the other points of
// its cluster and b the smallest mean distance to the points of another
// cluster; s = 0 for a point alone in its cluster. Labels must be in 0..k-1
// with at least two distinct values among the points scored.
func Silhouette(ctx context.Context, points [][]float64, labels []int, opts SilhouetteOptions) (float64, error) {
	if _, err := checkPoints(points); err != nil {
		return 0, fmt.Errorf("silhouette: %w", err)
	}
	if len(labels) != len(points) {
		return 0, fmt.Errorf("silhouette: %d labels for %d points", len(labels), len(points))
	}
	if opts.MaxExact == 0 {
		opts.MaxExact = defaultMaxExact
	}
	if opts.SampleSize == 0 {
		opts.SampleSize = defaultSampleSize
	}
	if opts.MaxExact < 0 || opts.SampleSize < 2 {
		return 0, fmt.Errorf("silhouette: need MaxExact >= 0 and SampleSize >= 2, got %+v", opts)
	}
	idx := make([]int, len(points))
	for i := range idx {
		idx[i] = i
	}
	if len(points) > opts.MaxExact && len(points) > opts.SampleSize {
		// A partial Fisher-Yates shuffle: the first SampleSize indices.
		rng := rand.New(rand.NewPCG(opts.Seed, 0x5111))
		for i := range opts.SampleSize {
			j := i + rng.IntN(len(idx)-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		idx = idx[:opts.SampleSize]
	}
	s, err := silhouetteOf(ctx, points, labels, idx)
	if err != nil {
		return 0, fmt.Errorf("silhouette: %w", err)
	}
	return s, nil
}

// silhouetteOf computes the exact mean silhouette of the points idx among
// themselves.
func silhouetteOf(ctx context.Context, points [][]float64, labels []int, idx []int) (float64, error) {
	k := 0
	for _, i := range idx {
		if labels[i] < 0 {
			return 0, fmt.Errorf("label %d of point %d is negative", labels[i], i)
		}
		k = max(k, labels[i]+1)
	}
	counts := make([]int, k)
	for _, i := range idx {
		counts[labels[i]]++
	}
	distinct := 0
	for _, c := range counts {
		if c > 0 {
			distinct++
		}
	}
	if distinct < 2 {
		return 0, fmt.Errorf("need at least 2 clusters among the points scored, got %d", distinct)
	}
	// sums[a*k+c] is the total distance from point idx[a] to the points of
	// cluster c; each pair is computed once and credited to both ends.
	m := len(idx)
	sums := make([]float64, m*k)
	for a := 0; a < m; a++ {
		if a%256 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		pa, la := points[idx[a]], labels[idx[a]]
		for b := a + 1; b < m; b++ {
			d := math.Sqrt(sqDist(pa, points[idx[b]]))
			sums[a*k+labels[idx[b]]] += d
			sums[b*k+la] += d
		}
	}
	total := 0.0
	for a := 0; a < m; a++ {
		own := labels[idx[a]]
		if counts[own] == 1 {
			continue // s = 0 for a singleton
		}
		in := sums[a*k+own] / float64(counts[own]-1)
		out := math.Inf(1)
		for c := 0; c < k; c++ {
			if c != own && counts[c] > 0 {
				out = math.Min(out, sums[a*k+c]/float64(counts[c]))
			}
		}
		if den := math.Max(in, out); den > 0 {
			total += (out - in) / den
		}
	}
	return total / float64(m), nil
}
