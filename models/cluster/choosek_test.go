package cluster

import "testing"

func TestChooseKFindsPlantedK(t *testing.T) {
	tests := []struct {
		name    string
		centers [][]float64
	}{
		{"four in 3-D", fourCenters()},
		{"three in 2-D", [][]float64{{0, 0}, {8, 0}, {4, 7}}},
		{"six in 5-D", [][]float64{
			{0, 0, 0, 0, 0}, {9, 0, 0, 0, 0}, {0, 9, 0, 0, 0},
			{0, 0, 9, 0, 0}, {0, 0, 0, 9, 0}, {0, 0, 0, 0, 9},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			points, truth := blobs(21, tc.centers, 120, 1)
			best, scores, err := ChooseK(t.Context(), points, 2, 8, Options{Seed: 1}, SilhouetteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(scores) != 7 || scores[0].K != 2 || scores[6].K != 8 {
				t.Fatalf("scores %+v", scores)
			}
			if len(best.Centroids) != len(tc.centers) {
				t.Fatalf("chose k=%d, planted %d; scores %+v", len(best.Centroids), len(tc.centers), scores)
			}
			if !matchesTruth(best.Labels, truth) {
				t.Error("chosen partition differs from the planted blobs")
			}
		})
	}
}

func TestChooseKRange(t *testing.T) {
	points, _ := blobs(1, fourCenters(), 5, 1)
	for _, r := range [][2]int{{1, 3}, {4, 3}, {2, len(points)}} {
		if _, _, err := ChooseK(t.Context(), points, r[0], r[1], Options{}, SilhouetteOptions{}); err == nil {
			t.Errorf("range %v accepted", r)
		}
	}
}
