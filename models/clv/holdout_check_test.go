package clv

import (
	"math"
	"testing"
)

func TestHoldoutCheckGrouping(t *testing.T) {
	p := BGNBDParams{R: 0.5, Alpha: 5, A: 0.8, B: 2.5}
	h := Holdout{
		Customers: []Customer{
			{ID: "a", X: 0, T: 30},
			{ID: "b", X: 0, T: 20},
			{ID: "c", X: 2, TX: 10, T: 30},
			{ID: "d", X: 9, TX: 25, T: 30},
			{ID: "e", X: 12, TX: 29, T: 30},
		},
		Actual: []float64{0, 1, 3, 4, 7},
		Length: 20,
	}
	rows, err := p.HoldoutCheck(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	pred := func(i int) float64 {
		v, err := p.ConditionalExpectedPurchases(h.Customers[i], 20)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := []HoldoutRow{
		{"0", 2, (pred(0) + pred(1)) / 2, 0.5},
		{"2", 1, pred(2), 3},
		{"7+", 2, (pred(3) + pred(4)) / 2, 5.5},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i].Group != want[i].Group || rows[i].Customers != want[i].Customers ||
			math.Abs(rows[i].MeanPredicted-want[i].MeanPredicted) > 1e-12 || rows[i].MeanActual != want[i].MeanActual {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	if _, err := p.HoldoutCheck(t.Context(), Holdout{Customers: h.Customers, Actual: h.Actual[:2]}); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestHoldoutCheckCDNOW(t *testing.T) {
	h, err := SplitHoldout(loadCDNOWTransactions(t), day("1997-09-30"), day("1998-06-30"), Weeks)
	if err != nil {
		t.Fatal(err)
	}
	if h.Length != 39 {
		t.Fatalf("holdout length %v weeks, want 39", h.Length)
	}
	full, _ := publishedBGNBD()
	rows, err := full.HoldoutCheck(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	// Bin sizes and actual weeks 40-78 means as printed by BTYD's
	// PlotFreqVsConditionalExpectedFrequency on the same split.
	want := []struct {
		n      int
		actual float64
	}{
		{1411, 0.2367116}, {439, 0.6970387}, {214, 1.392523}, {100, 1.560000},
		{62, 2.532258}, {38, 2.947368}, {29, 3.862069}, {64, 6.359375},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows", len(rows))
	}
	for i, w := range want {
		if rows[i].Customers != w.n || math.Abs(rows[i].MeanActual-w.actual) > 1e-6 {
			t.Errorf("group %s: %d customers, actual %.7f; want %d, %.7f", rows[i].Group, rows[i].Customers, rows[i].MeanActual, w.n, w.actual)
		}
		if !(rows[i].MeanPredicted > 0) {
			t.Errorf("group %s: predicted %v", rows[i].Group, rows[i].MeanPredicted)
		}
	}
}
