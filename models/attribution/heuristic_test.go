package attribution

import (
	"math"
	"testing"
)

// heuristicPaths: "A > B > C" 4 conv, value 8; "B > A" 2 conv, value 2;
// "C" 1 conv, value 5, 3 nulls; "A > B > C > D" 10 conv, value 10.
func heuristicPaths() []Path {
	return []Path{
		{Channels: []string{"A", "B", "C"}, Conversions: 4, Value: 8},
		{Channels: []string{"B", "A"}, Conversions: 2, Value: 2},
		{Channels: []string{"C"}, Conversions: 1, Value: 5, Nulls: 3},
		{Channels: []string{"A", "B", "C", "D"}, Conversions: 10, Value: 10},
	}
}

const tol = 1e-9

func checkCredits(t *testing.T, got []Credit, wantConv, wantValue map[string]float64) {
	t.Helper()
	if len(got) != len(wantConv) {
		t.Fatalf("got %d rows %+v, want %d", len(got), got, len(wantConv))
	}
	for _, c := range got {
		if math.Abs(c.Conversions-wantConv[c.Channel]) > tol {
			t.Errorf("%s %s conversions = %.12g, want %.12g", c.Model, c.Channel, c.Conversions, wantConv[c.Channel])
		}
		if wantValue != nil && math.Abs(c.Value-wantValue[c.Channel]) > tol {
			t.Errorf("%s %s value = %.12g, want %.12g", c.Model, c.Channel, c.Value, wantValue[c.Channel])
		}
	}
}

func sumCredits(cs []Credit) (conv, value float64) {
	for _, c := range cs {
		conv += c.Conversions
		value += c.Value
	}
	return conv, value
}

func TestHeuristics(t *testing.T) {
	paths := heuristicPaths()
	tests := []struct {
		name      string
		run       func([]Path) ([]Credit, error)
		wantConv  map[string]float64
		wantValue map[string]float64
	}{
		{
			// First touches: A (4, 8), B (2, 2), C (1, 5), A (10, 10).
			name:      "first touch",
			run:       FirstTouch,
			wantConv:  map[string]float64{"A": 14, "B": 2, "C": 1, "D": 0},
			wantValue: map[string]float64{"A": 18, "B": 2, "C": 5, "D": 0},
		},
		{
			// Last touches: C (4, 8), A (2, 2), C (1, 5), D (10, 10).
			name:      "last touch",
			run:       LastTouch,
			wantConv:  map[string]float64{"A": 2, "B": 0, "C": 5, "D": 10},
			wantValue: map[string]float64{"A": 2, "B": 0, "C": 13, "D": 10},
		},
		{
			// A: 4/3 + 2/2 + 10/4 = 29/6; B: same 29/6; C: 4/3 + 1 + 10/4 = 29/6; D: 10/4.
			// Values A: 8/3 + 1 + 10/4 = 37/6; B: 37/6; C: 8/3 + 5 + 10/4 = 61/6; D: 5/2.
			name:      "linear",
			run:       Linear,
			wantConv:  map[string]float64{"A": 29.0 / 6, "B": 29.0 / 6, "C": 29.0 / 6, "D": 2.5},
			wantValue: map[string]float64{"A": 37.0 / 6, "B": 37.0 / 6, "C": 61.0 / 6, "D": 2.5},
		},
		{
			// Half-life 1 step: weights 2^-(steps before last), normalised.
			// A>B>C: 1/4,1/2,1 over 7/4 -> 1/7,2/7,4/7. B>A: 1/2,1 -> 1/3,2/3.
			// A>B>C>D: 1/8,1/4,1/2,1 over 15/8 -> 1/15,2/15,4/15,8/15.
			// A: 4/7 + 4/3 + 10/15; B: 8/7 + 2/3 + 20/15; C: 16/7 + 1 + 40/15; D: 80/15.
			name: "time decay by position",
			run:  func(p []Path) ([]Credit, error) { return TimeDecay(p, 1) },
			wantConv: map[string]float64{
				"A": 4.0/7 + 4.0/3 + 10.0/15, "B": 8.0/7 + 2.0/3 + 20.0/15,
				"C": 16.0/7 + 1 + 40.0/15, "D": 80.0 / 15,
			},
		},
		{
			// 40/20/40: A>B>C -> .4,.2,.4; B>A -> .5,.5; C -> 1; A>B>C>D -> .4,.1,.1,.4.
			// A: 1.6 + 1 + 4 = 6.6; B: .8 + 1 + 1 = 2.8; C: 1.6 + 1 + 1 = 3.6; D: 4.
			// Values A: 3.2 + 1 + 4 = 8.2; B: 1.6 + 1 + 1 = 3.6; C: 3.2 + 5 + 1 = 9.2; D: 4.
			name:      "position based 40/20/40",
			run:       func(p []Path) ([]Credit, error) { return PositionBased(p, DefaultPositionParams()) },
			wantConv:  map[string]float64{"A": 6.6, "B": 2.8, "C": 3.6, "D": 4},
			wantValue: map[string]float64{"A": 8.2, "B": 3.6, "C": 9.2, "D": 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run(paths)
			if err != nil {
				t.Fatal(err)
			}
			checkCredits(t, got, tt.wantConv, tt.wantValue)
			conv, value := sumCredits(got)
			if math.Abs(conv-17) > tol || math.Abs(value-25) > tol {
				t.Errorf("sums = %v, %v; want 17, 25", conv, value)
			}
		})
	}
}

func TestTimeDecayDays(t *testing.T) {
	// Days 14, 7, 0 with half-life 7: weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7 of 7 conversions.
	// Repeated channel A collects both touches: 1 + 4 = 5.
	paths := []Path{{Channels: []string{"A", "B", "A"}, Days: []float64{14, 7, 0}, Conversions: 7, Value: 14}}
	got, err := TimeDecay(paths, 7)
	if err != nil {
		t.Fatal(err)
	}
	checkCredits(t, got, map[string]float64{"A": 5, "B": 2}, map[string]float64{"A": 10, "B": 4})
}

func TestHeuristicErrors(t *testing.T) {
	if _, err := TimeDecay(heuristicPaths(), 0); err == nil {
		t.Error("half-life 0 accepted")
	}
	if _, err := PositionBased(heuristicPaths(), PositionParams{First: 0.7, Last: 0.5}); err == nil {
		t.Error("shares over 1 accepted")
	}
	if _, err := Linear([]Path{{Conversions: 1}}); err == nil {
		t.Error("empty path accepted")
	}
}
