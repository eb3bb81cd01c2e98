package cluster

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/parcours/parcours/internal/parallel"
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
// Restarts run in parallel; the result does not depend on their order.
func KMeans(ctx context.Context, points [][]float64, opts Options) (*Result, error) {
	opts, tol, err := kmeansSetup(points, opts)
	if err != nil {
		return nil, err
	}
	fp := flatten(points)
	runs := make([]*Result, opts.Restarts)
	errs := make([]error, opts.Restarts)
	parallel.For(opts.Restarts, func(r int) { runs[r], errs[r] = kmeansStart(ctx, points, fp, opts, r, tol) })
	return bestStart(runs, errs)
}

// kmeansSetup checks the points and options, applies the defaults and
// returns the convergence tolerance.
func kmeansSetup(points [][]float64, opts Options) (Options, float64, error) {
	if _, err := checkPoints(points); err != nil {
		return opts, 0, fmt.Errorf("kmeans: %w", err)
	}
	if opts.K < 1 || opts.K > len(points) {
		return opts, 0, fmt.Errorf("kmeans: k=%d must be in [1, %d points]", opts.K, len(points))
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
		return opts, 0, fmt.Errorf("kmeans: negative restarts, iterations or tolerance in %+v", opts)
	}
	_, sds := featureMoments(points)
	meanVar := 0.0
	for _, s := range sds {
		meanVar += s * s
	}
	meanVar /= float64(len(sds))
	return opts, opts.Tol * meanVar, nil
}

// kmeansStart runs restart r: its own PCG stream, so restarts can run in
// any order.
func kmeansStart(ctx context.Context, points [][]float64, fp flat, opts Options, r int, tol float64) (*Result, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(r)))
	centroids, err := kmeansPlusPlus(ctx, fp, opts.K, rng)
	if err != nil {
		return nil, err
	}
	return lloyd(ctx, points, fp, centroids, opts.MaxIter, tol)
}

// flat holds points row after row, for the hot loops; margin is their
// skipMargin.
type flat struct {
	x      []float64
	n, d   int
	margin float64
}

// flatten copies points into a flat.
func flatten(points [][]float64) flat {
	f := flat{n: len(points), d: len(points[0]), margin: skipMargin(points)}
	f.x = make([]float64, 0, f.n*f.d)
	for _, p := range points {
		f.x = append(f.x, p...)
	}
	return f
}

// row returns point i.
func (f flat) row(i int) []float64 { return f.x[i*f.d : (i+1)*f.d : (i+1)*f.d] }

// bestStart returns the first restart with the lowest inertia, or the
// first restart's error.
func bestStart(runs []*Result, errs []error) (*Result, error) {
	var best *Result
	for r, res := range runs {
		if errs[r] != nil {
			return nil, fmt.Errorf("kmeans: %w", errs[r])
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
func kmeansPlusPlus(ctx context.Context, fp flat, k int, rng *rand.Rand) ([][]float64, error) {
	n := fp.n
	trials := 2 + int(math.Log(float64(k)))
	centroids := [][]float64{clone(fp.row(rng.IntN(n)))}
	closest := make([]float64, n) // squared distance to the nearest centroid
	total := 0.0
	for i := range n {
		closest[i] = sqDist(fp.row(i), centroids[0])
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
			q := fp.row(idx)
			sum := 0.0
			for i := range n {
				cand[i] = min(closest[i], sqDist(fp.row(i), q))
				sum += cand[i]
			}
			if sum < bestTotal {
				bestIdx, bestTotal = idx, sum
				cand, bestCand = bestCand, cand
			}
		}
		centroids = append(centroids, clone(fp.row(bestIdx)))
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

// refreshEvery bounds how many iterations the skip bounds of lloyd are
// carried forward before a full pass recomputes them: their rounding
// error grows with each update.
const refreshEvery = 32

// skipMargin is how much lloyd's bounds must clear before it keeps a
// point's centroid without computing the distances: 1e-9 of the points'
// bounding-box diagonal, orders of magnitude above the rounding error of
// the distances and bounds, so a skipped point is one whose nearest
// centroid the full computation would pick too. +Inf (never skip) when
// squared distances could underflow or overflow.
func skipMargin(points [][]float64) float64 {
	lo, hi := clone(points[0]), clone(points[0])
	for _, p := range points {
		for j, v := range p {
			lo[j], hi[j] = math.Min(lo[j], v), math.Max(hi[j], v)
		}
	}
	s := 0.0
	for j := range lo {
		d := hi[j] - lo[j]
		s += d * d
	}
	diag := math.Sqrt(s)
	if !(diag > 1e-100 && diag < 1e100) {
		return math.Inf(1)
	}
	return 1e-9 * diag
}

// lloyd runs Lloyd iterations from centroids until the total squared centroid
// shift is at most tol, no label changes, or maxIter iterations. fp is
// points, flattened.
//
// Hamerly's bounds skip most distance computations: upper[i] bounds the
// distance from point i to its centroid from above, lower[i] its distance
// to any other centroid from below, half[a] is half the distance from
// centroid a to the nearest other. A point whose upper bound, plus
// fp.margin, stays under lower[i] or half[a] keeps its centroid: the
// margin is far above the rounding error of the bounds, so a plain pass
// would keep it too. Any other point is assigned by nearest. Labels, sums
// and centroids are therefore a plain Lloyd pass's, bit for bit.
func lloyd(ctx context.Context, points [][]float64, fp flat, centroids [][]float64, maxIter int, tol float64) (*Result, error) {
	n, k, d := fp.n, len(centroids), fp.d
	margin := fp.margin
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	dist := make([]float64, n)
	upper := make([]float64, n)
	lower := make([]float64, n)
	half := make([]float64, k)
	gap := make([]float64, k*k)
	move := make([]float64, k)
	sums := make([][]float64, k)
	for c := range sums {
		sums[c] = make([]float64, d)
	}
	sizes := make([]int, k)
	members := make([]int32, n)
	end := make([]int, k)
	res := &Result{}
	full := true // compute every point: no bounds yet
	for iter := 1; iter <= maxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !full {
			centroidGaps(centroids, gap, half)
		}
		changed := 0
		for i := range n {
			p := fp.row(i)
			a := labels[i]
			var c int
			var dd, low float64
			if full {
				var second float64
				c, dd, second = nearest2(p, centroids)
				low = math.Sqrt(second)
			} else {
				bound := max(half[a], lower[i])
				if upper[i]+margin < bound {
					continue
				}
				da := sqDist(p, centroids[a])
				u := math.Sqrt(da)
				upper[i] = u
				if u+margin < bound {
					continue
				}
				c, dd, low = nearestNear(p, centroids, a, da, u, margin, gap[a*k:(a+1)*k])
			}
			if c != a {
				changed++
				labels[i] = c
			}
			dist[i] = dd
			upper[i], lower[i] = math.Sqrt(dd), low
		}
		clusterMembers(labels, sizes, members, end)
		for c := range sums {
			sumRows(fp, members[end[c]-sizes[c]:end[c]], sums[c])
		}
		empty := slices.Contains(sizes, 0)
		if empty {
			if !full { // skipped points have no fresh distance
				for i := range n {
					dist[i] = sqDist(fp.row(i), centroids[labels[i]])
				}
			}
			fillEmptyClusters(points, labels, dist, sizes, sums)
		}
		shift := 0.0
		for c := range centroids {
			mc := 0.0
			for j := range centroids[c] {
				v := sums[c][j] / float64(sizes[c])
				dv := v - centroids[c][j]
				shift += dv * dv
				mc += dv * dv
				centroids[c][j] = v
			}
			move[c] = math.Sqrt(mc)
		}
		res.Iterations = iter
		if changed == 0 || shift <= tol {
			res.Converged = true
			break
		}
		// A fill moved points without bounds: recompute them all.
		full = empty || iter%refreshEvery == 0
		if !full {
			moveBounds(labels, move, upper, lower)
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

// centroidGaps sets gap[a*k+c] to half the distance between centroids a
// and c, and half[a] to the least gap of a (+Inf for a lone centroid).
func centroidGaps(centroids [][]float64, gap, half []float64) {
	k := len(centroids)
	for c := range half {
		half[c] = math.Inf(1)
	}
	for a := range k {
		for c := a + 1; c < k; c++ {
			g := 0.5 * math.Sqrt(sqDist(centroids[a], centroids[c]))
			gap[a*k+c], gap[c*k+a] = g, g
			half[a], half[c] = min(half[a], g), min(half[c], g)
		}
	}
}

// moveBounds widens the bounds by how far the centroids moved: a point's
// own centroid by move[a], any other by at most the largest other move.
func moveBounds(labels []int, move, upper, lower []float64) {
	first, m1, m2 := -1, 0.0, 0.0
	for c, m := range move {
		switch {
		case first < 0 || m > m1:
			first, m1, m2 = c, m, m1
		case m > m2:
			m2 = m
		}
	}
	for i, a := range labels {
		upper[i] += move[a]
		if a == first {
			lower[i] -= m2
		} else {
			lower[i] -= m1
		}
	}
}

// nearestNear is nearest for a point whose centroid a lies at squared
// distance da, at most u (+ rounding): a centroid c with u + margin <
// gap[c] (half the distance from a to c) is farther than a, so only the
// others are computed. It also returns a lower bound of the distance to
// every centroid but the nearest.
func nearestNear(p []float64, centroids [][]float64, a int, da, u, margin float64, gap []float64) (int, float64, float64) {
	best, bestD, second, skipped := 0, math.Inf(1), math.Inf(1), math.Inf(1)
	for c, m := range centroids {
		d := da
		if c != a {
			if u+margin < gap[c] {
				skipped = min(skipped, 2*gap[c]-u)
				continue
			}
			d = sqDist(p, m)
		}
		if d < bestD {
			best, bestD, second = c, d, bestD
		} else if d < second {
			second = d
		}
	}
	return best, bestD, min(math.Sqrt(second), skipped)
}

// nearest2 is nearest, plus the squared distance to the nearest of the
// other centroids (+Inf when there is none).
func nearest2(p []float64, centroids [][]float64) (int, float64, float64) {
	best, bestD, second := 0, math.Inf(1), math.Inf(1)
	for c, m := range centroids {
		d := sqDist(p, m)
		if d < bestD {
			best, bestD, second = c, d, bestD
		} else if d < second {
			second = d
		}
	}
	return best, bestD, second
}

// clusterMembers counts the points of each cluster into sizes and lists
// them in members, cluster after cluster, each in increasing order: those
// of c end at end[c].
func clusterMembers(labels, sizes []int, members []int32, end []int) {
	clear(sizes)
	for _, c := range labels {
		sizes[c]++
	}
	at := 0
	for c, s := range sizes {
		end[c] = at
		at += s
	}
	for i, c := range labels {
		members[end[c]] = int32(i)
		end[c]++
	}
}

// sumRows sets sum to the sum of the rows of fp listed in rows: each
// coordinate added up from zero in the order of rows, as a running sum
// over the points would, with up to eight coordinates in flight.
func sumRows(fp flat, rows []int32, sum []float64) {
	d, x := fp.d, fp.x
	j := 0
	for ; j+8 <= d; j += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float64
		for _, i := range rows {
			r := x[int(i)*d+j : int(i)*d+j+8 : int(i)*d+j+8]
			s0 += r[0]
			s1 += r[1]
			s2 += r[2]
			s3 += r[3]
			s4 += r[4]
			s5 += r[5]
			s6 += r[6]
			s7 += r[7]
		}
		sum[j], sum[j+1], sum[j+2], sum[j+3] = s0, s1, s2, s3
		sum[j+4], sum[j+5], sum[j+6], sum[j+7] = s4, s5, s6, s7
	}
	for ; j+4 <= d; j += 4 {
		var s0, s1, s2, s3 float64
		for _, i := range rows {
			r := x[int(i)*d+j : int(i)*d+j+4 : int(i)*d+j+4]
			s0 += r[0]
			s1 += r[1]
			s2 += r[2]
			s3 += r[3]
		}
		sum[j], sum[j+1], sum[j+2], sum[j+3] = s0, s1, s2, s3
	}
	for ; j < d; j++ {
		var s0 float64
		for _, i := range rows {
			s0 += x[int(i)*d+j]
		}
		sum[j] = s0
	}
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
