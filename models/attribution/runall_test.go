package attribution

import (
	"context"
	"math"
	"sort"
	"testing"
)

func TestRunAll(t *testing.T) {
	got, err := RunAll(context.Background(), threeChannel(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	// 10 models (5 heuristics, additive Shapley, Markov 1-3, touch hazard) x 3 channels.
	if len(got) != 10*3 {
		t.Fatalf("got %d rows, want 30", len(got))
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool {
		if got[i].Model != got[j].Model {
			return got[i].Model < got[j].Model
		}
		return got[i].Channel < got[j].Channel
	}) {
		t.Error("rows not sorted by model, channel")
	}
	perModel := map[string][2]float64{}
	byKey := map[string]float64{}
	for _, c := range got {
		s := perModel[c.Model]
		perModel[c.Model] = [2]float64{s[0] + c.Conversions, s[1] + c.Value}
		byKey[c.Model+"/"+c.Channel] = c.Conversions
	}
	for m, s := range perModel {
		if math.Abs(s[0]-3) > tol || math.Abs(s[1]-12) > tol {
			t.Errorf("%s sums to %v conversions, %v value; want 3, 12", m, s[0], s[1])
		}
	}
	// Spot checks against the hand-computed tests.
	for key, want := range map[string]float64{
		"markov_order_1/C":   1.5,
		"shapley_additive/C": 2,
		"first_touch/A":      1,
		"last_touch/B":       1,
	} {
		if math.Abs(byKey[key]-want) > tol {
			t.Errorf("%s = %v, want %v", key, byKey[key], want)
		}
	}
}
