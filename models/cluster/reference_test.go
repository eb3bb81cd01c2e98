package cluster

// The k-means, silhouette and ChooseK as they were before the speed-ups
// (serial Lloyd, one silhouette pass per k), kept to check the fast ones
// give bit-identical results.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

func refKMeans(ctx context.Context, points [][]float64, opts Options) (*Result, error) {
	if _, err := checkPoints(points); err != nil {
		return nil, fmt.Errorf("kmeans: %w", err)
	}
	if opts.K < 1 || opts.K > len(points) {
		return nil, fmt.Errorf("kmeans: k=%d must be in [1, %d points]", opts.K, len(points))
	}
	if opts.Restarts == 0 {
		opts.Restarts = defaultRestarts
	}
	if opts.MaxIter == 0 {
		opts.MaxIter = defaultMaxIter
	}
	if opts.Tol == 0 {
		opts.Tol = defaultTol
	}
	if opts.Restarts < 0 || opts.MaxIter < 0 || opts.Tol < 0 {
		return nil, fmt.Errorf("kmeans: negative restarts, iterations or tolerance in %+v", opts)
	}
	_, sds := featureMoments(points)
	meanVar := 0.0
	for _, s := range sds {
		meanVar += s * s
	}
	meanVar /= float64(len(sds))
	tol := opts.Tol * meanVar

	var best *Result
	for r := 0; r < opts.Restarts; r++ {
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(r)))
		centroids, err := refKmeansPlusPlus(ctx, points, opts.K, rng)
		if err != nil {
			return nil, fmt.Errorf("kmeans: %w", err)
		}
		res, err := refLloyd(ctx, points, centroids, opts.MaxIter, tol)
		if err != nil {
			return nil, fmt.Errorf("kmeans: %w", err)
		}
		if best == nil || res.Inertia < best.Inertia {
			best = res
		}
	}
	return best, nil
}

func refKmeansPlusPlus(ctx context.Context, points [][]float64, k int, rng *rand.Rand) ([][]float64, error) {
	n := len(points)
	trials := 2 + int(math.Log(float64(k)))
	centroids := [][]float64{refClone(points[rng.IntN(n)])}
	closest := make([]float64, n) // squared distance to the nearest centroid
	total := 0.0
	for i, p := range points {
		closest[i] = refSqDist(p, centroids[0])
		total += closest[i]
	}
	cand := make([]float64, n)
	bestCand := make([]float64, n)
	for len(centroids) < k {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if total == 0 {
			return nil, fmt.Errorf("fewer than k=%d distinct points", k)
		}
		bestIdx, bestTotal := -1, math.Inf(1)
		for range trials {
			idx := refSampleByWeight(closest, total, rng)
			sum := 0.0
			for i, p := range points {
				cand[i] = math.Min(closest[i], refSqDist(p, points[idx]))
				sum += cand[i]
			}
			if sum < bestTotal {
				bestIdx, bestTotal = idx, sum
				copy(bestCand, cand)
			}
		}
		centroids = append(centroids, refClone(points[bestIdx]))
		copy(closest, bestCand)
		total = bestTotal
	}
	return centroids, nil
}

func refSampleByWeight(weights []float64, total float64, rng *rand.Rand) int {
	u := rng.Float64() * total
	last := 0
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		last = i
		u -= w
		if u < 0 {
			return i
		}
	}
	return last // rounding left u just above zero
}

func refLloyd(ctx context.Context, points [][]float64, centroids [][]float64, maxIter int, tol float64) (*Result, error) {
	n, k, d := len(points), len(centroids), len(points[0])
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	dist := make([]float64, n)
	sums := make([][]float64, k)
	for c := range sums {
		sums[c] = make([]float64, d)
	}
	sizes := make([]int, k)
	res := &Result{}
	for iter := 1; iter <= maxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		changed := 0
		for i, p := range points {
			c, dd := refNearest(p, centroids)
			if c != labels[i] {
				changed++
				labels[i] = c
			}
			dist[i] = dd
		}
		for c := range sums {
			clear(sums[c])
			sizes[c] = 0
		}
		for i, p := range points {
			c := labels[i]
			sizes[c]++
			for j, v := range p {
				sums[c][j] += v
			}
		}
		refFillEmptyClusters(points, labels, dist, sizes, sums)
		shift := 0.0
		for c := range centroids {
			for j := range centroids[c] {
				v := sums[c][j] / float64(sizes[c])
				dv := v - centroids[c][j]
				shift += dv * dv
				centroids[c][j] = v
			}
		}
		res.Iterations = iter
		if changed == 0 || shift <= tol {
			res.Converged = true
			break
		}
	}
	// Final assignment to the final centroids, so labels, sizes and inertia
	// describe the returned centroids exactly.
	res.Sizes = make([]int, k)
	for i, p := range points {
		c, dd := refNearest(p, centroids)
		labels[i] = c
		res.Sizes[c]++
		res.Inertia += dd
	}
	res.Centroids, res.Labels = centroids, labels
	return res, nil
}

func refFillEmptyClusters(points [][]float64, labels []int, dist []float64, sizes []int, sums [][]float64) {
	for c := range sizes {
		if sizes[c] > 0 {
			continue
		}
		far := -1
		for i := range points {
			if sizes[labels[i]] > 1 && (far < 0 || dist[i] > dist[far]) {
				far = i
			}
		}
		if far < 0 {
			return // fewer points than clusters; KMeans rules this out
		}
		from := labels[far]
		for j, v := range points[far] {
			sums[from][j] -= v
			sums[c][j] = v
		}
		sizes[from]--
		sizes[c] = 1
		labels[far] = c
		dist[far] = 0
	}
}

func refNearest(p []float64, centroids [][]float64) (int, float64) {
	best, bestD := 0, math.Inf(1)
	for c, m := range centroids {
		if d := refSqDist(p, m); d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD
}

func refClone(p []float64) []float64 { return append([]float64(nil), p...) }

func refSilhouette(ctx context.Context, points [][]float64, labels []int, opts SilhouetteOptions) (float64, error) {
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
	s, err := refSilhouetteOf(ctx, points, labels, idx)
	if err != nil {
		return 0, fmt.Errorf("silhouette: %w", err)
	}
	return s, nil
}

func refSilhouetteOf(ctx context.Context, points [][]float64, labels []int, idx []int) (float64, error) {
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
			d := math.Sqrt(refSqDist(pa, points[idx[b]]))
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

func refChooseK(ctx context.Context, points [][]float64, kmin, kmax int, opts Options, sil SilhouetteOptions) (*Result, []KScore, error) {
	if kmin < 2 || kmax < kmin || kmax >= len(points) {
		return nil, nil, fmt.Errorf("choose k: need 2 <= kmin <= kmax < %d points, got [%d, %d]", len(points), kmin, kmax)
	}
	var best *Result
	bestScore := 0.0
	scores := make([]KScore, 0, kmax-kmin+1)
	for k := kmin; k <= kmax; k++ {
		o := opts
		o.K = k
		res, err := refKMeans(ctx, points, o)
		if err != nil {
			return nil, nil, fmt.Errorf("choose k: k=%d: %w", k, err)
		}
		s, err := refSilhouette(ctx, points, res.Labels, sil)
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

func refSqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
