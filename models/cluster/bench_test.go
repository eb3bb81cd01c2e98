package cluster

import "testing"

// benchPoints is 100,000 customers with 8 features in 6 loose groups.
func benchPoints() [][]float64 {
	centers := make([][]float64, 6)
	for c := range centers {
		centers[c] = make([]float64, 8)
		centers[c][c] = 4
		centers[c][(c+3)%8] = -3
	}
	points, _ := blobs(3, centers, 100_000/6, 1.5)
	return points
}

func BenchmarkKMeans100k(b *testing.B) {
	points := benchPoints()
	b.ResetTimer()
	for b.Loop() {
		if _, err := KMeans(b.Context(), points, Options{K: 6, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSilhouetteSampled100k(b *testing.B) {
	points := benchPoints()
	res, err := KMeans(b.Context(), points, Options{K: 6, Seed: 1, Restarts: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Silhouette(b.Context(), points, res.Labels, SilhouetteOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
