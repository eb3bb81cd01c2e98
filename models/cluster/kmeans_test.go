package cluster

import (
	"context"
	"errors"
	"math"
	"testing"
)

func TestKMeansByHand(t *testing.T) {
	// Two obvious pairs: centroids 0.5 and 10.5, inertia 4·0.25.
	points := [][]float64{{0}, {10}, {1}, {11}}
	res, err := KMeans(t.Context(), points, Options{K: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := res.Centroids[0][0], res.Centroids[1][0]
	if lo > hi {
		lo, hi = hi, lo
	}
	if lo != 0.5 || hi != 10.5 || res.Inertia != 1 || !res.Converged {
		t.Errorf("centroids %v, inertia %v, converged %v", res.Centroids, res.Inertia, res.Converged)
	}
	if res.Labels[0] != res.Labels[2] || res.Labels[1] != res.Labels[3] || res.Labels[0] == res.Labels[1] {
		t.Errorf("labels %v", res.Labels)
	}
	if res.Sizes[0] != 2 || res.Sizes[1] != 2 {
		t.Errorf("sizes %v", res.Sizes)
	}
	for _, tc := range []struct {
		p    []float64
		want int
	}{{[]float64{-3}, res.Labels[0]}, {[]float64{7}, res.Labels[1]}} {
		got, err := res.Assign(tc.p)
		if err != nil || got != tc.want {
			t.Errorf("Assign(%v) = %d, %v; want %d", tc.p, got, err, tc.want)
		}
	}
}

func TestKMeansRecoversBlobs(t *testing.T) {
	centers := fourCenters()
	points, truth := blobs(11, centers, 250, 1)
	res, err := KMeans(t.Context(), points, Options{K: 4, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !matchesTruth(res.Labels, truth) {
		t.Fatal("k-means partition differs from the planted blobs")
	}
	// Each centroid is a blob mean: within 4·sd/√250 = 0.25 of its centre
	// per coordinate.
	for c, m := range centers {
		got := res.Centroids[res.Labels[c]] // point c belongs to blob c
		for j := range m {
			if math.Abs(got[j]-m[j]) > 0.25 {
				t.Errorf("blob %d centroid %v, centre %v", c, got, m)
				break
			}
		}
	}
	// Inertia ≈ n·d·sd² = 3000 (sd of a χ²₃₀₀₀ sum: 77); 5 sd either side.
	if math.Abs(res.Inertia-3000) > 5*math.Sqrt(2*3000) {
		t.Errorf("inertia %.1f, want about 3000", res.Inertia)
	}
}

func TestKMeansDeterministic(t *testing.T) {
	points, _ := blobs(2, [][]float64{{0, 0}, {3, 0}, {0, 3}, {3, 3}, {1.5, 1.5}}, 60, 1.2)
	a, err := KMeans(t.Context(), points, Options{K: 5, Seed: 9, Restarts: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := KMeans(t.Context(), points, Options{K: 5, Seed: 9, Restarts: 3})
	if err != nil {
		t.Fatal(err)
	}
	if a.Inertia != b.Inertia {
		t.Fatalf("same seed, inertia %v then %v", a.Inertia, b.Inertia)
	}
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] {
			t.Fatalf("same seed, label %d differs", i)
		}
	}
	// More restarts can only keep or lower the inertia (restart r is the
	// same stream either way).
	c, err := KMeans(t.Context(), points, Options{K: 5, Seed: 9, Restarts: 12})
	if err != nil {
		t.Fatal(err)
	}
	if c.Inertia > a.Inertia {
		t.Errorf("12 restarts inertia %v above 3 restarts %v", c.Inertia, a.Inertia)
	}
}

func TestFillEmptyClusters(t *testing.T) {
	// Cluster 1 is empty; the point farthest from its centroid (index 2,
	// distance² 9) moves there and the sums follow.
	points := [][]float64{{0}, {1}, {3}}
	labels := []int{0, 0, 0}
	dist := []float64{1, 0, 9}
	sizes := []int{3, 0}
	sums := [][]float64{{4}, {0}}
	fillEmptyClusters(points, labels, dist, sizes, sums)
	if labels[2] != 1 || sizes[0] != 2 || sizes[1] != 1 || sums[0][0] != 1 || sums[1][0] != 3 {
		t.Errorf("labels %v sizes %v sums %v", labels, sizes, sums)
	}
}

func TestKMeansErrors(t *testing.T) {
	tests := []struct {
		name   string
		points [][]float64
		k      int
	}{
		{"no points", nil, 1},
		{"k too large", [][]float64{{1}, {2}}, 3},
		{"k zero", [][]float64{{1}, {2}}, 0},
		{"ragged", [][]float64{{1, 2}, {2}}, 1},
		{"nan", [][]float64{{1}, {math.NaN()}}, 1},
		{"too few distinct points", [][]float64{{1}, {1}, {1}, {2}}, 3},
	}
	for _, tc := range tests {
		if _, err := KMeans(t.Context(), tc.points, Options{K: tc.k}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	points, _ := blobs(1, fourCenters(), 10, 1)
	if _, err := KMeans(ctx, points, Options{K: 4}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run returned %v", err)
	}
}
