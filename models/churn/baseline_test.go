package churn

import (
	"context"
	"math"
	"testing"
)

func TestBaselineHandComputed(t *testing.T) {
	// 20 rows: recency 1..20 (two per decile), one missing row extra.
	// Churn per decile pair: 0,0 | 1,0 | 0,0 | 1,1 | 0,1 | 1,1 | 1,1 | 1,0 | 1,1 | 1,1
	labels := []float64{0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1}
	x := NewMatrix([]string{"other", "recency"}, 21)
	for i := range 20 {
		x.Set(i, 1, float64(i+1))
	}
	x.Set(20, 1, math.NaN())
	ds, err := NewDataset(x, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Baseline{RecencyFeature: "recency"}.Fit(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	st := m.s.(*baselineState)
	base := 14.0 / 21
	if st.BaseRate != base {
		t.Errorf("base rate %v, want 14/21", st.BaseRate)
	}
	wantCuts := []float64{2, 4, 6, 8, 10, 12, 14, 16, 18}
	if len(st.Cuts) != len(wantCuts) {
		t.Fatalf("cuts %v, want %v", st.Cuts, wantCuts)
	}
	for k := range wantCuts {
		if st.Cuts[k] != wantCuts[k] {
			t.Errorf("cut %d = %v, want %v", k, st.Cuts[k], wantCuts[k])
		}
	}
	// Churned per bin: 0,1,0,2,1,2,2,1,2,2 (two rows each). Pooling adjacent
	// violators (increasing, equal weights): [0] [1 0 → .5 .5] [2 1 → 1.5
	// 1.5] [2 2 1 → 5/3 ×3] [2] [2]. Each rate is shrunk by one pseudo-row
	// at the base rate: (churned + base)/(2 + 1).
	pos := []float64{0, 0.5, 0.5, 1.5, 1.5, 5.0 / 3, 5.0 / 3, 5.0 / 3, 2, 2}
	want := make([]float64, len(pos))
	for k := range pos {
		want[k] = (pos[k] + base) / 3
	}
	if !st.Increasing {
		t.Error("rates should increase with recency")
	}
	for k := range want {
		if math.Abs(st.Rates[k]-want[k]) > 1e-12 {
			t.Errorf("bin %d rate %v, want %v", k, st.Rates[k], want[k])
		}
	}
	if want := (1 + base) / 2; math.Abs(st.MissingRate-want) > 1e-12 {
		t.Errorf("missing rate %v, want %v", st.MissingRate, want)
	}
	ctx := context.Background()
	p, err := m.Predict(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if p[0] != st.Rates[0] || p[19] != st.Rates[9] || p[20] != st.MissingRate || p[2] != st.Rates[1] {
		t.Errorf("predictions %v", p)
	}
	c, err := m.Contributions(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 21 {
		if c.Row(i)[0] != 0 || math.Abs(c.Bias[i]+c.Row(i)[1]-logit(p[i])) > 1e-12 {
			t.Errorf("row %d contributions %v bias %v", i, c.Row(i), c.Bias[i])
		}
	}
	if _, err := (Baseline{RecencyFeature: "nope"}).Fit(ctx, ds); err == nil {
		t.Error("unknown recency feature accepted")
	}
}

func TestIsotonic(t *testing.T) {
	tests := []struct {
		v, w, want []float64
		up         bool
	}{
		{[]float64{1, 3, 2, 4}, []float64{1, 1, 1, 1}, []float64{1, 2.5, 2.5, 4}, true},
		{[]float64{1, 3, 2, 4}, []float64{1, 3, 1, 1}, []float64{1, 2.75, 2.75, 4}, true},
		{[]float64{3, 1, 2}, []float64{1, 1, 1}, []float64{3, 1.5, 1.5}, false},
		{[]float64{4, 3, 2, 1}, []float64{1, 1, 1, 1}, []float64{2.5, 2.5, 2.5, 2.5}, true},
	}
	for _, tc := range tests {
		got := isotonic(tc.v, tc.w, tc.up)
		for k := range got {
			if math.Abs(got[k]-tc.want[k]) > 1e-12 {
				t.Errorf("isotonic(%v, %v, %v) = %v, want %v", tc.v, tc.w, tc.up, got, tc.want)
				break
			}
		}
	}
}
