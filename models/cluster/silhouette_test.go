package cluster

import (
	"math"
	"testing"
)

func TestSilhouetteByHand(t *testing.T) {
	// A = {0, 1}, B = {4, 6} on a line:
	//   s(0) = (5 - 1)/5,  s(1) = (4 - 1)/4,
	//   s(4) = (3.5 - 2)/3.5, s(6) = (5.5 - 2)/5.5.
	sA := 4.0/5 + 3.0/4
	sB := 1.5/3.5 + 3.5/5.5
	tests := []struct {
		name   string
		points [][]float64
		labels []int
		want   float64
	}{
		{"two clusters", [][]float64{{0}, {1}, {4}, {6}}, []int{0, 0, 1, 1}, (sA + sB) / 4},
		// A singleton scores 0 and, being far, changes no other b.
		{"with singleton", [][]float64{{0}, {1}, {4}, {6}, {20}}, []int{0, 0, 1, 1, 2}, (sA + sB) / 5},
		// Labels need not be contiguous: cluster 1 is empty.
		{"gap in labels", [][]float64{{0}, {1}, {4}, {6}}, []int{0, 0, 2, 2}, (sA + sB) / 4},
		// The same in 2-D, rotated by 90°: distances are unchanged.
		{"rotated", [][]float64{{0, 0}, {0, 1}, {0, 4}, {0, 6}}, []int{1, 1, 0, 0}, (sA + sB) / 4},
	}
	for _, tc := range tests {
		got, err := Silhouette(t.Context(), tc.points, tc.labels, SilhouetteOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s: silhouette %.16f, want %.16f", tc.name, got, tc.want)
		}
	}
}

func TestSilhouetteSampledNearExact(t *testing.T) {
	points, truth := blobs(4, [][]float64{{0, 0}, {4, 0}, {0, 4}}, 1000, 1.5)
	exact, err := Silhouette(t.Context(), points, truth, SilhouetteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The per-point silhouettes here have sd ≈ 0.2, so a 1,000-point sample
	// has a standard error near 0.006; 0.03 is five of them.
	sampled, err := Silhouette(t.Context(), points, truth, SilhouetteOptions{MaxExact: 1000, SampleSize: 1000, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exact %.4f, sampled %.4f", exact, sampled)
	if math.Abs(sampled-exact) > 0.03 {
		t.Errorf("sampled silhouette %.4f, exact %.4f", sampled, exact)
	}
	again, _ := Silhouette(t.Context(), points, truth, SilhouetteOptions{MaxExact: 1000, SampleSize: 1000, Seed: 8})
	if again != sampled {
		t.Errorf("same seed gave %v then %v", sampled, again)
	}
}

func TestSilhouetteErrors(t *testing.T) {
	pts := [][]float64{{0}, {1}, {2}}
	for _, tc := range []struct {
		name   string
		labels []int
	}{
		{"one cluster", []int{0, 0, 0}},
		{"length", []int{0, 1}},
		{"negative", []int{0, -1, 1}},
	} {
		if _, err := Silhouette(t.Context(), pts, tc.labels, SilhouetteOptions{}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
