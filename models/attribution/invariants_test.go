package attribution

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomPaths is a path file of n paths over ch channels where channel
// popularity falls off steeply (the last ones appear on a path or two),
// with random conversions, values and nulls; some paths never convert.
func randomPaths(rng *rand.Rand, n, ch int) []Path {
	paths := make([]Path, n)
	for i := range paths {
		l := 1 + rng.IntN(6)
		p := Path{Channels: make([]string, l)}
		for j := range p.Channels {
			// Zipf-like: channel k is chosen with weight 1/(k+1)^2.
			k := 0
			for k < ch-1 && rng.Float64() < 0.55 {
				k++
			}
			p.Channels[j] = fmt.Sprintf("c%02d", k)
		}
		if rng.IntN(4) > 0 {
			p.Conversions = float64(rng.IntN(20))
		}
		if p.Conversions > 0 {
			p.Value = p.Conversions * (1 + 100*rng.Float64())
		}
		p.Nulls = float64(rng.IntN(200))
		paths[i] = p
	}
	// At least one conversion, so that every model has something to credit.
	paths[0].Conversions, paths[0].Value = paths[0].Conversions+1, paths[0].Value+10
	return paths
}

// TestEveryModelIsSane: on random path files with rare channels, every
// model's credits are non-negative and add up to the conversions and the
// value of the paths it was given.
func TestEveryModelIsSane(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		paths := randomPaths(rng, 1+rng.IntN(60), 2+rng.IntN(14))
		credits, err := RunAll(ctx, paths, Config{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		conv, value := totals(paths)
		sums := map[string][2]float64{}
		for _, c := range credits {
			if c.Conversions < -1e-9 || c.Value < -1e-9 || math.IsNaN(c.Conversions) || math.IsNaN(c.Value) {
				t.Errorf("seed %d: %s credits %s %v conversions, %v value", seed, c.Model, c.Channel, c.Conversions, c.Value)
			}
			s := sums[c.Model]
			sums[c.Model] = [2]float64{s[0] + c.Conversions, s[1] + c.Value}
		}
		if len(sums) != 10 {
			t.Errorf("seed %d: %d models, want 10", seed, len(sums))
		}
		for m, s := range sums {
			if math.Abs(s[0]-conv) > 1e-6*max(1, conv) || math.Abs(s[1]-value) > 1e-6*max(1, value) {
				t.Errorf("seed %d: %s credits %v conversions and %v value, want %v and %v", seed, m, s[0], s[1], conv, value)
			}
		}
	}
}
