package segments

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// The member details written without a map must be json.Marshal's text.
func TestDetailWriterIsJSONMarshal(t *testing.T) {
	cols := []string{"share_web", "recency_days", "a<b&c", "email_open_rate_90d", "Zeta", "avg_basket"}
	special := []float64{0, math.Copysign(0, -1), 1, -1, 1e-6, 9.999999999999999e-7, 1e-7, 1.5e-9, 1e20, 1e21, 123456789012345678901234.0,
		-1e21, -2.5e-7, math.SmallestNonzeroFloat64, math.MaxFloat64, 0.1, 1.0 / 3, 12345.678, math.NaN()}
	rng := rand.New(rand.NewPCG(1, 2))
	w := newDetailWriter(cols)
	for n := range 20000 {
		row := make([]float64, len(cols))
		for j := range row {
			switch rng.IntN(3) {
			case 0:
				row[j] = special[rng.IntN(len(special))]
			case 1:
				row[j] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(50)-25))
			default:
				for row[j] = math.NaN(); math.IsNaN(row[j]) || math.IsInf(row[j], 0); {
					row[j] = math.Float64frombits(rng.Uint64())
				}
			}
		}
		m := map[string]any{}
		for j, c := range cols {
			if math.IsNaN(row[j]) {
				m[c] = nil
			} else {
				m[c] = row[j]
			}
		}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.append(nil, row)
		if err != nil || string(got) != string(want) {
			t.Fatalf("row %d %v: got %s (%v), want %s", n, row, got, err, want)
		}
	}
	if _, err := w.append(nil, []float64{0, math.Inf(1), 0, 0, 0, 0}); err == nil {
		t.Error("infinite value accepted")
	}
}
