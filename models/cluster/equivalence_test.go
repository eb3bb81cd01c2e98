package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// equivalenceSets are point sets the fast k-means and silhouettes must
// handle exactly as the reference: blobs, heavy ties on a grid, skewed and
// clipped features like the micro-segments', one dimension, thirteen.
func equivalenceSets() map[string][][]float64 {
	sets := map[string][][]float64{}
	sets["blobs"], _ = blobs(5, [][]float64{{0, 0, 0}, {3, 1, 0}, {0, 3, 1}, {2, 2, 2}, {1, 0, 3}}, 400, 1.3)
	rng := rand.New(rand.NewPCG(3, 4))
	var grid, skew, line [][]float64
	for range 1500 {
		grid = append(grid, []float64{float64(rng.IntN(4)), float64(rng.IntN(3)), float64(rng.IntN(2))})
		p := make([]float64, 9)
		for j := range p {
			v := math.Log1p(rng.ExpFloat64() * float64(j+1))
			if j%3 == 0 {
				v = math.Round(v * 2)
			}
			p[j] = math.Max(-3, math.Min(3, v-1))
		}
		skew = append(skew, p)
		line = append(line, []float64{rng.NormFloat64() + float64(rng.IntN(3))*4})
	}
	sets["grid"], sets["skew"], sets["line"] = grid, skew, line
	wide := make([][]float64, 6)
	for c := range wide {
		wide[c] = make([]float64, 13) // sums of 8, 4 and 1 coordinates at a time
		wide[c][c] = 3
		wide[c][12-c] = -2
	}
	sets["wide"], _ = blobs(6, wide, 150, 1.5)
	return sets
}

func sameResult(t *testing.T, what string, got, want *Result) {
	t.Helper()
	if math.Float64bits(got.Inertia) != math.Float64bits(want.Inertia) || got.Iterations != want.Iterations ||
		got.Converged != want.Converged || !slices.Equal(got.Labels, want.Labels) || !slices.Equal(got.Sizes, want.Sizes) {
		t.Fatalf("%s: inertia %v, %d iterations (converged %v), want %v, %d (%v); labels equal %v, sizes %v want %v",
			what, got.Inertia, got.Iterations, got.Converged, want.Inertia, want.Iterations, want.Converged,
			slices.Equal(got.Labels, want.Labels), got.Sizes, want.Sizes)
	}
	for c := range want.Centroids {
		for j := range want.Centroids[c] {
			if math.Float64bits(got.Centroids[c][j]) != math.Float64bits(want.Centroids[c][j]) {
				t.Fatalf("%s: centroid %d = %v, want %v", what, c, got.Centroids[c], want.Centroids[c])
			}
		}
	}
}

func TestKMeansMatchesReference(t *testing.T) {
	for name, points := range equivalenceSets() {
		for _, o := range []Options{
			{K: 1, Seed: 1}, {K: 2, Seed: 2}, {K: 5, Seed: 3, Restarts: 4}, {K: 8, Seed: 4},
			{K: 6, Seed: 5, MaxIter: 3}, {K: 7, Seed: 6, Tol: 1e-300, Restarts: 2}, // stops early; runs past refreshEvery
		} {
			got, err := KMeans(t.Context(), points, o)
			if err != nil {
				t.Fatal(err)
			}
			want, err := refKMeans(t.Context(), points, o)
			if err != nil {
				t.Fatal(err)
			}
			sameResult(t, name, got, want)
		}
	}
}

func TestLloydMatchesReferenceFromAnyStart(t *testing.T) {
	// Small sets from random starts (not k-means++): clusters empty on the
	// first pass or later, once the bounds are in use.
	rng := rand.New(rand.NewPCG(8, 9))
	for trial := range 3000 {
		tiny := trial%2 == 1 // a few points on a grid: ties, and late empty clusters
		n, d, k := 10+rng.IntN(60), 1+rng.IntN(3), 2+rng.IntN(6)
		if tiny {
			n, d, k = 4+rng.IntN(12), 1+rng.IntN(2), 2+rng.IntN(4)
		}
		points := make([][]float64, n)
		for i := range points {
			points[i] = make([]float64, d)
			for j := range points[i] {
				points[i][j] = float64(rng.IntN(4))*3 + rng.NormFloat64()
				if tiny {
					points[i][j] = float64(rng.IntN(10))
				}
			}
		}
		start := make([][]float64, k)
		for c := range start {
			start[c] = make([]float64, d)
			for j := range start[c] {
				start[c][j] = rng.Float64()*14 - 2
				if tiny {
					start[c][j] = float64(rng.IntN(20)) / 2
				}
			}
		}
		copies := func() [][]float64 {
			out := make([][]float64, k)
			for c := range start {
				out[c] = clone(start[c])
			}
			return out
		}
		got, err := lloyd(t.Context(), points, flatten(points), copies(), 300, 0)
		if err != nil {
			t.Fatal(err)
		}
		want, err := refLloyd(t.Context(), points, copies(), 300, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, fmt.Sprintf("trial %d", trial), got, want)
	}
}

func TestChooseKMatchesReference(t *testing.T) {
	for name, points := range equivalenceSets() {
		for _, sil := range []SilhouetteOptions{{}, {MaxExact: 500, SampleSize: 700, Seed: 3}} {
			kmax := 8
			if name == "grid" {
				kmax = 6
			}
			got, gotScores, err := ChooseK(t.Context(), points, 2, kmax, Options{Seed: 7}, sil)
			if err != nil {
				t.Fatal(err)
			}
			want, wantScores, err := refChooseK(t.Context(), points, 2, kmax, Options{Seed: 7}, sil)
			if err != nil {
				t.Fatal(err)
			}
			sameResult(t, name, got, want)
			if len(gotScores) != len(wantScores) {
				t.Fatalf("%s: %d scores, want %d", name, len(gotScores), len(wantScores))
			}
			for i, w := range wantScores {
				g := gotScores[i]
				if g.K != w.K || math.Float64bits(g.Silhouette) != math.Float64bits(w.Silhouette) ||
					math.Float64bits(g.Inertia) != math.Float64bits(w.Inertia) {
					t.Fatalf("%s: score %+v, want %+v", name, g, w)
				}
			}
		}
	}
}

func TestSilhouettesMatchReference(t *testing.T) {
	points, _ := blobs(9, fourCenters(), 300, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	labelings := [][]int{make([]int, len(points)), make([]int, len(points)), make([]int, len(points)), {1, 2}}
	for i := range points {
		labelings[0][i] = rng.IntN(2)
		labelings[1][i] = rng.IntN(9) // some clusters nearly empty, some singletons in a sample
		labelings[2][i] = 3 * rng.IntN(2)
	}
	labelings[1][7] = 12
	for _, opts := range []SilhouetteOptions{{}, {MaxExact: 100, SampleSize: 50, Seed: 2}} {
		got, errs := silhouettes(t.Context(), points, labelings, opts)
		for l, labels := range labelings {
			want, err := refSilhouette(t.Context(), points, labels, opts)
			if (err == nil) != (errs[l] == nil) || (err != nil && err.Error() != errs[l].Error()) {
				t.Fatalf("labelling %d: error %v, want %v", l, errs[l], err)
			}
			if math.Float64bits(got[l]) != math.Float64bits(want) {
				t.Fatalf("labelling %d: %v, want %v", l, got[l], want)
			}
		}
	}
}

func TestChooseKWhateverTheProcessors(t *testing.T) {
	points := equivalenceSets()["skew"]
	var first *Result
	var firstScores []KScore
	for _, procs := range []int{1, 2, 5} {
		prev := runtime.GOMAXPROCS(procs)
		got, scores, err := ChooseK(t.Context(), points, 2, 8, Options{Seed: 3}, SilhouetteOptions{MaxExact: 400, SampleSize: 400, Seed: 3})
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first, firstScores = got, scores
			continue
		}
		sameResult(t, fmt.Sprintf("GOMAXPROCS %d", procs), got, first)
		if !slices.Equal(scores, firstScores) {
			t.Fatalf("GOMAXPROCS %d: scores %v, want %v", procs, scores, firstScores)
		}
	}
}
