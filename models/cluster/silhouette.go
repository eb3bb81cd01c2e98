package cluster

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/parcours/parcours/internal/parallel"
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
	s, errs := silhouettes(ctx, points, [][]int{labels}, opts)
	return s[0], errs[0]
}

// silhouettes is Silhouette of several labellings of the same points: the
// sample and each pair's distance are shared, the scores and errors are
// each labelling's own.
func silhouettes(ctx context.Context, points [][]float64, labelings [][]int, opts SilhouetteOptions) ([]float64, []error) {
	scores := make([]float64, len(labelings))
	errs := make([]error, len(labelings))
	fail := func(err error) ([]float64, []error) {
		for l := range errs {
			if errs[l] == nil {
				errs[l] = err
			}
		}
		return scores, errs
	}
	if _, err := checkPoints(points); err != nil {
		return fail(fmt.Errorf("silhouette: %w", err))
	}
	for l, labels := range labelings {
		if len(labels) != len(points) {
			errs[l] = fmt.Errorf("silhouette: %d labels for %d points", len(labels), len(points))
		}
	}
	if opts.MaxExact == 0 {
		opts.MaxExact = defaultMaxExact
	}
	if opts.SampleSize == 0 {
		opts.SampleSize = defaultSampleSize
	}
	if opts.MaxExact < 0 || opts.SampleSize < 2 {
		return fail(fmt.Errorf("silhouette: need MaxExact >= 0 and SampleSize >= 2, got %+v", opts))
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
	var live []int
	var scored [][]int
	for l, labels := range labelings {
		if errs[l] == nil {
			live, scored = append(live, l), append(scored, labels)
		}
	}
	got, gotErrs := silhouettesOf(ctx, points, scored, idx)
	for q, l := range live {
		scores[l] = got[q]
		if gotErrs[q] != nil {
			scores[l], errs[l] = 0, fmt.Errorf("silhouette: %w", gotErrs[q])
		}
	}
	return scores, errs
}

// silhouettesOf computes the exact mean silhouette of the points idx among
// themselves under each labelling. Each point's distance totals add the
// other points in idx order, each distance computed once for all
// labellings: the sums, hence the scores, are those of a pass per
// labelling over the pairs a < b, bit for bit (a distance is the same
// both ways).
func silhouettesOf(ctx context.Context, points [][]float64, labelings [][]int, idx []int) ([]float64, []error) {
	scores := make([]float64, len(labelings))
	errs := make([]error, len(labelings))
	counts := make([][]int, len(labelings))
	var live []int
	for l, labels := range labelings {
		k := 0
		for _, i := range idx {
			if labels[i] < 0 {
				errs[l] = fmt.Errorf("label %d of point %d is negative", labels[i], i)
				break
			}
			k = max(k, labels[i]+1)
		}
		if errs[l] != nil {
			continue
		}
		counts[l] = make([]int, k)
		for _, i := range idx {
			counts[l][labels[i]]++
		}
		distinct := 0
		for _, c := range counts[l] {
			if c > 0 {
				distinct++
			}
		}
		if distinct < 2 {
			errs[l] = fmt.Errorf("need at least 2 clusters among the points scored, got %d", distinct)
			continue
		}
		live = append(live, l)
	}
	if len(live) == 0 {
		return scores, errs
	}
	// The sample's points side by side, and for each point b and live
	// labelling q the slot of b's cluster in a row of sums (labelling q's
	// clusters start at off[q]).
	m, d, nl := len(idx), len(points[0]), len(live)
	pts := make([]float64, m*d)
	for a, i := range idx {
		copy(pts[a*d:(a+1)*d], points[i])
	}
	off := make([]int, nl+1)
	for q, l := range live {
		off[q+1] = off[q] + len(counts[l])
	}
	slot := make([]int32, m*nl)
	for b, i := range idx {
		for q, l := range live {
			slot[b*nl+q] = int32(off[q] + labelings[l][i])
		}
	}
	// term[a*nl+q] is point a's silhouette under labelling q; counted[...]
	// false for a singleton or a zero denominator, which add nothing.
	term := make([]float64, m*nl)
	counted := make([]bool, m*nl)
	const rowsPerTask = 64
	var cancelled atomic.Bool
	parallel.For((m+rowsPerTask-1)/rowsPerTask, func(t int) {
		if cancelled.Load() || ctx.Err() != nil {
			cancelled.Store(true)
			return
		}
		sums := make([]float64, off[nl])
		for a := t * rowsPerTask; a < min(m, (t+1)*rowsPerTask); a++ {
			clear(sums)
			pa := pts[a*d : (a+1)*d]
			for b := range m {
				if b == a {
					continue
				}
				dist := math.Sqrt(sqDist(pa, pts[b*d:(b+1)*d]))
				for _, s := range slot[b*nl : (b+1)*nl] {
					sums[s] += dist
				}
			}
			for q, l := range live {
				row, cnt := sums[off[q]:off[q+1]], counts[l]
				own := labelings[l][idx[a]]
				if cnt[own] == 1 {
					continue // s = 0 for a singleton
				}
				in := row[own] / float64(cnt[own]-1)
				out := math.Inf(1)
				for c := range cnt {
					if c != own && cnt[c] > 0 {
						out = math.Min(out, row[c]/float64(cnt[c]))
					}
				}
				if den := math.Max(in, out); den > 0 {
					term[a*nl+q], counted[a*nl+q] = (out-in)/den, true
				}
			}
		}
	})
	if cancelled.Load() {
		err := ctx.Err()
		for _, l := range live {
			errs[l] = err
		}
		return scores, errs
	}
	for q, l := range live {
		total := 0.0
		for a := range m {
			if counted[a*nl+q] {
				total += term[a*nl+q]
			}
		}
		scores[l] = total / float64(m)
	}
	return scores, errs
}
