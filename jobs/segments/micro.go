package segments

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	"github.com/parcours/parcours/internal/parallel"
	"github.com/parcours/parcours/models/cluster"
)

// zClip bounds the standardised features k-means sees: a handful of
// extreme customers (one huge order, one very old purchase) would
// otherwise be split off as clusters of their own, which the silhouette
// happily rewards.
const zClip = 3.0

// microFeature is one behavioural feature micro-segments cluster on.
type microFeature struct {
	// Column is the analytics.customer_features column (and the key in a
	// member's detail).
	Column string
	// Words names the feature in descriptions ("high basket size").
	Words string
	// Log: cluster on log1p of the value. Counts and amounts are long-
	// tailed; on their raw scale a few big spenders would make clusters of
	// their own and squash everyone else together.
	Log bool
}

// microFeatures are the features micro-segments cluster on, in the order
// of the micro_features section of analytics.segment_members.sql.
func microFeatures() []microFeature {
	return []microFeature{
		{"recency_days", "days since last purchase", true},
		{"frequency_365d", "purchases in the last year", true},
		{"monetary_365d", "spend in the last year", true},
		{"avg_basket", "basket size", true},
		{"share_web", "share of purchases on the web", false},
		{"share_app", "share of purchases in the app", false},
		{"share_store", "share of purchases in store", false},
		{"sessions_90d", "web sessions in 90 days", true},
		{"email_open_rate_90d", "email open rate", false},
	}
}

// MicroInput is what micro-segmentation clusters: one row per customer,
// one column per feature of microFeatures (in that order), NaN where the
// feature is missing.
type MicroInput struct {
	Customers []string
	Columns   []string
	Values    [][]float64
}

// MicroSegment is one behavioural cluster.
type MicroSegment struct {
	// Name is the segment id, micro_<n>. Micro numbers micro_1 for the
	// largest cluster, micro_2 for the next, ...; Match then gives each
	// cluster the id of the previous computation's cluster it matches.
	Name string
	// Label names the cluster for people by what sets it apart ("Frequent
	// app buyers, high basket"): at most MaxLabel characters, unique among
	// the segmentation's clusters.
	Label       string
	Size        int
	Description string
	Distinctive []cluster.Deviation
	// Centroid is the cluster's centre in the standardised space k-means
	// ran in (log1p of long-tailed features, z-scores clipped at ±3), one
	// coordinate per feature.
	Centroid []float64
	// Matched says the id comes from the previous computation, whose
	// centre lay Shift (z units) from this one; false for a fresh id.
	Matched bool
	Shift   float64
	// deviations are every feature's deviation (Feature: the column),
	// largest |Z| first: what the label is made of.
	deviations []cluster.Deviation
}

// MicroSegmentation is the outcome of Micro.
type MicroSegmentation struct {
	// K is the number of clusters; Chosen says the silhouette chose it
	// (else it was kept from the previous computation: see MicroK).
	// Scores are the silhouette and inertia of every k tried.
	K      int
	Chosen bool
	Scores []cluster.KScore
	// Fitted is how many customers k-means was fitted on (the sample).
	Fitted int
	// Imputed is the value each feature's missing entries were given.
	Imputed  []float64
	Segments []MicroSegment
	// Labels[i] indexes Segments for customer i; Distances[i] is the
	// customer's distance to that cluster's centre in standard deviations.
	Labels    []int
	Distances []float64
}

// SkipError says a family cannot be computed today for a reason that is
// not a failure (no promoted model, too few customers): the job warns and
// goes on with the other families.
type SkipError struct {
	Family, Reason string
}

// Error says which family was skipped and why.
func (e *SkipError) Error() string { return fmt.Sprintf("%s segments skipped: %s", e.Family, e.Reason) }

// Micro finds behavioural micro-segments. Missing values are imputed with
// the feature's mean over the customers who have it (so they sit at the
// centre of that feature and do not form a cluster of their own: an email
// open rate is missing when no email was sent); long-tailed features are
// log1p-transformed; all are standardised to z-scores. k in
// [KMin, KMax] is chosen by the silhouette on a seeded sample of at most
// FitSample customers (the silhouette itself on at most SilhouetteSample
// of them); everyone is then assigned to the nearest centre. Clusters are
// ordered and named micro_1.. by decreasing size (then centre), described
// by the features whose mean sets them apart, on the features' own scale,
// and labelled in a few words (see MicroSegment.Label). Match renames them
// after the previous computation's clusters. It returns a *SkipError when
// there are too few distinct customers to cluster.
func Micro(ctx context.Context, in MicroInput, opts Options, seed uint64) (*MicroSegmentation, error) {
	return MicroK(ctx, in, opts, seed, 0)
}

// MicroK is Micro with k clusters when k > 0 and k fits [KMin, KMax] and
// the data (otherwise the silhouette chooses): the fit is the one Micro's
// search makes for that k, its silhouette alone in Scores.
func MicroK(ctx context.Context, in MicroInput, opts Options, seed uint64, k int) (*MicroSegmentation, error) {
	feats := microFeatures()
	if err := validate(opts); err != nil {
		return nil, err
	}
	if len(in.Columns) != len(feats) {
		return nil, fmt.Errorf("micro segments: %d feature columns, want %d", len(in.Columns), len(feats))
	}
	for j, f := range feats {
		if in.Columns[j] != f.Column {
			return nil, fmt.Errorf("micro segments: feature column %d is %q, want %q", j, in.Columns[j], f.Column)
		}
	}
	if len(in.Values) != len(in.Customers) {
		return nil, fmt.Errorf("micro segments: %d rows of values for %d customers", len(in.Values), len(in.Customers))
	}
	in, perm := canonicalInput(in)
	n := len(in.Customers)
	if n <= opts.KMin {
		return nil, &SkipError{FamilyMicro, fmt.Sprintf("%d customers with features, need more than %d", n, opts.KMin)}
	}
	raw, imputed, err := impute(in.Values, len(feats))
	if err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}
	space := make([][]float64, n)
	for i, p := range raw {
		space[i] = make([]float64, len(p))
		for j, v := range p {
			if feats[j].Log {
				v = math.Copysign(math.Log1p(math.Abs(v)), v)
			}
			space[i][j] = v
		}
	}
	scaler, err := cluster.FitScaler(space)
	if err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}
	z, err := scaler.Transform(space)
	if err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}
	for _, p := range z {
		for j, v := range p {
			p[j] = max(-zClip, min(zClip, v))
		}
	}

	sample := sampleRows(n, opts.FitSample, seed)
	pts := make([][]float64, len(sample))
	for i, r := range sample {
		pts[i] = z[r]
	}
	// k-means++ needs k distinct points, ChooseK fewer than k points.
	kmax := min(opts.KMax, len(pts)-1, distinctRows(pts))
	if kmax < opts.KMin {
		return nil, &SkipError{FamilyMicro, fmt.Sprintf("only %d distinct behaviours among %d customers, need at least %d",
			distinctRows(pts), n, opts.KMin)}
	}
	kept := k >= opts.KMin && k <= kmax
	lo, hi := opts.KMin, kmax
	if kept {
		lo, hi = k, k
	}
	best, scores, err := cluster.ChooseK(ctx, pts, lo, hi, cluster.Options{Seed: seed},
		cluster.SilhouetteOptions{MaxExact: opts.SilhouetteSample, SampleSize: opts.SilhouetteSample, Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}

	k = len(best.Centroids)
	labels := make([]int, n)
	dist := make([]float64, n)
	sizes := make([]int, k)
	// Each customer's centre lands at its index: the same on any number
	// of cores.
	err = parallel.Chunks(ctx, n, 4096, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			c, err := best.Assign(z[i])
			if err != nil {
				return err
			}
			labels[i] = c
			dist[i] = math.Sqrt(sqDist(z[i], best.Centroids[c]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}
	for _, c := range labels {
		sizes[c]++
	}
	// Rank clusters by size, then centre: not by k-means' arbitrary order.
	order := make([]int, k)
	for c := range order {
		order[c] = c
	}
	sort.SliceStable(order, func(a, b int) bool {
		return segmentLess(MicroSegment{Size: sizes[order[a]], Centroid: best.Centroids[order[a]]},
			MicroSegment{Size: sizes[order[b]], Centroid: best.Centroids[order[b]]})
	})
	rank := make([]int, k)
	for r, c := range order {
		rank[c] = r
	}
	for i := range labels {
		labels[i] = rank[labels[i]]
	}

	words := make([]string, len(feats))
	for j, f := range feats {
		words[j] = f.Words
	}
	descs, err := cluster.Describe(raw, labels, words, cluster.DescribeOptions{})
	if err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}
	// Every feature's deviation, by column, for the labels.
	devs, err := cluster.Describe(raw, labels, in.Columns, cluster.DescribeOptions{MaxFeatures: len(feats), MinAbsZ: 1e-12})
	if err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}
	// Back to the caller's order.
	out := &MicroSegmentation{K: k, Chosen: !kept, Scores: scores, Fitted: len(pts), Imputed: imputed, Labels: make([]int, n), Distances: make([]float64, n)}
	for pos, i := range perm {
		out.Labels[i], out.Distances[i] = labels[pos], dist[pos]
	}
	for i, d := range descs {
		out.Segments = append(out.Segments, MicroSegment{Size: d.Size, Description: d.Text, Distinctive: d.Distinctive,
			Centroid: slices.Clone(best.Centroids[order[d.Cluster]]), deviations: devs[i].Distinctive})
	}
	if len(out.Segments) != k || len(devs) != k {
		return nil, fmt.Errorf("micro segments: %d of %d clusters described", len(out.Segments), k)
	}
	// No history: micro_1 is the largest. The job matches with the
	// previous computation's centres next.
	if err := out.Match(MicroHistory{}, in.Columns, 0); err != nil {
		return nil, fmt.Errorf("micro segments: %w", err)
	}
	return out, nil
}

// MicroName is the segment name of cluster c (0-based, by decreasing size).
func MicroName(c int) string { return "micro_" + strconv.Itoa(c+1) }

// impute copies values replacing NaN with the column mean over the rows
// that have a value (0 when none does), and returns the means used.
func impute(values [][]float64, d int) ([][]float64, []float64, error) {
	sums := make([]float64, d)
	counts := make([]int, d)
	for i, p := range values {
		if len(p) != d {
			return nil, nil, fmt.Errorf("row %d has %d features, want %d", i, len(p), d)
		}
		for j, v := range p {
			if math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("row %d, feature %d is infinite", i, j)
			}
			if !math.IsNaN(v) {
				sums[j] += v
				counts[j]++
			}
		}
	}
	means := make([]float64, d)
	for j := range means {
		if counts[j] > 0 {
			means[j] = sums[j] / float64(counts[j])
		}
	}
	out := make([][]float64, len(values))
	for i, p := range values {
		out[i] = slices.Clone(p)
		for j, v := range p {
			if math.IsNaN(v) {
				out[i][j] = means[j]
			}
		}
	}
	return out, means, nil
}

// sampleRows returns up to size row indices of n, drawn uniformly without
// replacement by a seeded partial Fisher-Yates shuffle, in increasing
// order; all rows when n <= size.
func sampleRows(n, size int, seed uint64) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if n <= size {
		return idx
	}
	rng := rand.New(rand.NewPCG(seed, 0x5e65))
	for i := range size {
		j := i + rng.IntN(n-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	idx = idx[:size]
	slices.Sort(idx)
	return idx
}

// distinctRows counts the distinct rows of points.
func distinctRows(points [][]float64) int {
	seen := make(map[string]struct{}, len(points))
	b := make([]byte, 0, 8*len(points[0]))
	for _, p := range points {
		b = b[:0]
		for _, v := range p {
			b = strconv.AppendUint(b, math.Float64bits(v), 36)
			b = append(b, ',')
		}
		seen[string(b)] = struct{}{}
	}
	return len(seen)
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// canonicalInput orders the customers by their feature values, not by key:
// the seeded sample and k-means++ draw by position, and keys are pseudonyms
// of a secret pepper, so key order would make the clusters depend on it.
// Customers with equal values are interchangeable (they get one label).
// perm[k] is the caller's index of the k-th customer in canonical order.
func canonicalInput(in MicroInput) (MicroInput, []int) {
	idx := make([]int, len(in.Customers))
	for i := range idx {
		idx[i] = i
	}
	// Ties keep input order: by values, then index, which an unstable sort
	// orders as a stable one would (a stable sort of a million customers
	// took 0.7 s, merging in place).
	slices.SortFunc(idx, func(a, b int) int {
		if c := slices.Compare(in.Values[a], in.Values[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	out := MicroInput{Columns: in.Columns, Customers: make([]string, len(idx)), Values: make([][]float64, len(idx))}
	for k, i := range idx {
		out.Customers[k], out.Values[k] = in.Customers[i], in.Values[i]
	}
	return out, idx
}
