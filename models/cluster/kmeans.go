package cluster

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Defaults for the zero values of Options.
const (
	defaultRestarts = 10
	defaultMaxIter  = 300
	defaultTol      = 1e-4
)

// Options configures KMeans.
type Options struct {
	// K is the number of clusters.
	K int
	// Restarts is the number of k-means++ starts; the run with the lowest
	// inertia wins. 0 means 10.
	Restarts int
	// MaxIter caps the Lloyd iterations of one start. 0 means 300.
	MaxIter int
	// Tol stops a start once the centroids move, in total squared distance,
	// less than Tol times the mean feature variance (so it does not depend
	// on the data's scale). 0 means 1e-4.
	Tol float64
	// Seed makes the starts reproducible.
	Seed uint64
}

// Result is a k-means partition.
type Result struct {
	Centroids [][]float64 `json:"centroids"`
	// Labels[i] is the cluster of points[i], in 0..K-1.
	Labels []int `json:"-"`
	Sizes  []int `json:"sizes"`
	// Inertia is the sum of squared distances of points to their centroid.
	Inertia float64 `json:"inertia"`
	// Iterations and Converged describe the winning start; Converged is
	// false when it stopped at MaxIter.
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
}

// KMeans partitions points into opts.K clusters by Lloyd's algorithm from
// greedy k-means++ starts (each centre chosen as the best of 2+⌊ln K⌋
// candidates drawn with probability proportional to the squared distance to
// the nearest centre so far, as scikit-learn does), keeping the start with
// the lowest inertia. Restart r draws from a PCG stream seeded (Seed, r).
func KMeans(ctx context.Context, points [][]float64, opts Options) (*Result, error) {
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
		centroids, err := kmeansPlusPlus(ctx, points, opts.K, rng)
		if err != nil {
			return nil, fmt.Errorf("kmeans: %w", err)
		}
		res, err := lloyd(ctx, points, centroids, opts.MaxIter, tol)
		if err != nil {
			return nil, fmt.Errorf("kmeans: %w", err)
		}
		if best == nil || res.Inertia < best.Inertia {
			best = res
		}
	}
	return best, nil
}

// Assign returns the cluster whose centroid is nearest to point, which must
// be on the scale the clustering was fitted on (see Scaler).
func (r *Result) Assign(point []float64) (int, error) {
	if len(r.Centroids) == 0 {
		return 0, fmt.Errorf("assign: no centroids")
	}
	if len(point) != len(r.Centroids[0]) {
		return 0, fmt.Errorf("assign: point has %d features, centroids %d", len(point), len(r.Centroids[0]))
	}
	c, _ := nearest(point, r.Centroids)
	return c, nil
}

// kmeansPlusPlus picks k starting centroids (copies of points).
func kmeansPlusPlus(ctx context.Context, points [][]float64, k int, rng *rand.Rand) ([][]float64, error) {
	n := len(points)
	trials := 2 + int(math.Log(float64(k)))
	centroids := [][]float64{clone(points[rng.IntN(n)])}
	closest := make([]float64, n) // squared distance to the nearest centroid
	total := 0.0
	for i, p := range points {
		closest[i] = sqDist(p, centroids[0])
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
			idx := sampleByWeight(closest, total, rng)
			sum := 0.0
			for i, p := range points {
				cand[i] = math.Min(closest[i], sqDist(p, points[idx]))
				sum += cand[i]
			}
			if sum < bestTotal {
				bestIdx, bestTotal = idx, sum
				copy(bestCand, cand)
			}
		}
		centroids = append(centroids, clone(points[bestIdx]))
		copy(closest, bestCand)
		total = bestTotal
	}
	return centroids, nil
}

// sampleByWeight draws an index with probability weights[i]/total.
func sampleByWeight(weights []float64, total float64, rng *rand.Rand) int {
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

// lloyd runs Lloyd iterations from centroids until the total squared centroid
// shift is at most tol, no label changes, or maxIter iterations.
func lloyd(ctx context.Context, points [][]float64, centroids [][]float64, maxIter int, tol float64) (*Result, error) {
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
			c, dd := nearest(p, centroids)
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
		fillEmptyClusters(points, labels, dist, sizes, sums)
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
		c, dd := nearest(p, centroids)
		labels[i] = c
		res.Sizes[c]++
		res.Inertia += dd
	}
	res.Centroids, res.Labels = centroids, labels
	return res, nil
}

// fillEmptyClusters gives each empty cluster the point farthest from its
// centroid (taking it from its cluster), as scikit-learn does, so that k
// clusters survive.
func fillEmptyClusters(points [][]float64, labels []int, dist []float64, sizes []int, sums [][]float64) {
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

// nearest returns the index of the centroid nearest to p and the squared
// distance to it.
func nearest(p []float64, centroids [][]float64) (int, float64) {
	best, bestD := 0, math.Inf(1)
	for c, m := range centroids {
		if d := sqDist(p, m); d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD
}

func clone(p []float64) []float64 { return append([]float64(nil), p...) }
