package cluster

import (
	"math"
	"testing"
)

func TestScalerByHand(t *testing.T) {
	// Column 0: 1 2 3 → mean 2, population sd √(2/3). Column 1 constant.
	points := [][]float64{{1, 7}, {2, 7}, {3, 7}}
	s, err := FitScaler(points)
	if err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(2.0 / 3)
	if s.Means[0] != 2 || s.Means[1] != 7 || math.Abs(s.SDs[0]-sd) > 1e-15 || s.SDs[1] != 0 {
		t.Fatalf("scaler %+v", s)
	}
	z, err := s.Transform(points)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{-1 / sd, 0}, {0, 0}, {1 / sd, 0}}
	for i := range want {
		for j := range want[i] {
			if math.Abs(z[i][j]-want[i][j]) > 1e-12 {
				t.Errorf("z[%d][%d] = %v, want %v", i, j, z[i][j], want[i][j])
			}
		}
	}
	// A new point lands on the fitted scale.
	p, err := s.TransformPoint([]float64{2 + 2*sd, 9})
	if err != nil || math.Abs(p[0]-2) > 1e-12 || p[1] != 0 {
		t.Errorf("new point → %v, %v", p, err)
	}
	if _, err := s.TransformPoint([]float64{1}); err == nil {
		t.Error("short point accepted")
	}
	if _, err := FitScaler([][]float64{{1}, {math.Inf(1)}}); err == nil {
		t.Error("infinite value accepted")
	}
}
