package churn

import (
	"slices"
	"testing"
)

func TestStratifiedSplit(t *testing.T) {
	y := make([]float64, 1000)
	for i := range 130 {
		y[i*7] = 1 // 130 positives spread out
	}
	train, hold, err := StratifiedSplit(y, 0.25, 42)
	if err != nil {
		t.Fatal(err)
	}
	count := func(idx []int) (pos int) {
		for _, i := range idx {
			pos += int(y[i])
		}
		return pos
	}
	// round(0.25·130) = 33 (32.5 rounds away from zero), round(0.25·870) = 218.
	if len(hold) != 251 || count(hold) != 33 || len(train) != 749 || count(train) != 97 {
		t.Errorf("holdout %d rows %d positives, train %d rows %d positives", len(hold), count(hold), len(train), count(train))
	}
	all := append(slices.Clone(train), hold...)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("train and holdout do not partition the rows (index %d is %d)", i, v)
		}
	}
	if !slices.IsSorted(train) || !slices.IsSorted(hold) {
		t.Error("indices not increasing")
	}
	_, again, _ := StratifiedSplit(y, 0.25, 42)
	_, other, _ := StratifiedSplit(y, 0.25, 43)
	if !slices.Equal(hold, again) {
		t.Error("same seed, different split")
	}
	if slices.Equal(hold, other) {
		t.Error("seeds 42 and 43 gave the same split")
	}
	if _, _, err := StratifiedSplit(y, 1, 1); err == nil {
		t.Error("fraction 1 accepted")
	}
	sample, err := StratifiedSample(y, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(sample) != 100 || count(sample) != 13 {
		t.Errorf("sample of %d rows with %d positives, want 100 and 13", len(sample), count(sample))
	}
	// A class of two keeps a row on each side: round(0.1·2) = 0 becomes 1;
	// round(0.1·8) = 1 negative.
	tiny := []float64{1, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	_, h, _ := StratifiedSplit(tiny, 0.1, 1)
	if len(h) != 2 || tiny[h[0]]+tiny[h[1]] != 1 {
		t.Errorf("holdout %v, want one positive and one negative", h)
	}
}
