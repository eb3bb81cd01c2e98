package attribution

import (
	"testing"
)

func TestShapleyAdditiveHandComputed(t *testing.T) {
	// Channel sets of threeChannel(): {A,B} conv 1 value 10, {A} conv 0, {C} conv 2 value 2.
	// phi_A = 1/2, phi_B = 1/2, phi_C = 2; values 5, 5, 2.
	got, err := ShapleyAdditive(threeChannel())
	if err != nil {
		t.Fatal(err)
	}
	checkCredits(t, got, map[string]float64{"A": 0.5, "B": 0.5, "C": 2}, map[string]float64{"A": 5, "B": 5, "C": 2})
}
