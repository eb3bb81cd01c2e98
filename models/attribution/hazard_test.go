package attribution

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// hazardJourneys plays the touch-hazard model itself: each journey is up
// to maxLen touches of uniformly drawn channels; at each touch the chance
// to convert is 1 - exp(-(u0 + sum of u[c] over the touches so far)); a
// journey stops at its conversion (a converting path) or ends without one
// (a non-converting path). Each conversion is worth 2.
func hazardJourneys(seed uint64, users, maxLen int, u0 float64, u []float64) []Path {
	rng := rand.New(rand.NewPCG(seed, 3))
	byKey := map[string]*Path{}
	for range users {
		n := 1 + rng.IntN(maxLen)
		var chs []string
		s := u0
		converted := false
		for range n {
			c := rng.IntN(len(u))
			chs = append(chs, "c"+string(rune('a'+c)))
			s += u[c]
			if rng.Float64() < -math.Expm1(-s) {
				converted = true
				break
			}
		}
		key := strings.Join(chs, DefaultSeparator)
		p := byKey[key]
		if p == nil {
			p = &Path{Channels: chs}
			byKey[key] = p
		}
		if converted {
			p.Conversions++
			p.Value += 2
		} else {
			p.Nulls++
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Path, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out
}

// TestHazardRecoversPlantedEffects: on journeys drawn from the model with
// known effects, maximum likelihood finds them back (within 10% or 0.002),
// the channel that adds nothing gets (almost) nothing, and the credits add
// up to the conversions and value.
func TestHazardRecoversPlantedEffects(t *testing.T) {
	u0 := 0.01
	u := []float64{0.12, 0.06, 0.03, 0.0}
	paths := hazardJourneys(7, 200000, 6, u0, u)
	res, err := Hazard(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("baseline %.4f effects %v in %d iterations, log-likelihood %.1f", res.Baseline, res.Effect, res.Iterations, res.LogLik)
	if math.Abs(res.Baseline-u0) > 0.1*u0+0.002 {
		t.Errorf("baseline %.4f, planted %.4f", res.Baseline, u0)
	}
	for i, want := range u {
		if got := res.Effect[i]; math.Abs(got-want) > 0.1*want+0.002 {
			t.Errorf("effect of %s = %.4f, planted %.4f", res.Channels[i], got, want)
		}
	}
	conv, value := totals(paths)
	var gc, gv float64
	for _, c := range res.Credits {
		gc += c.Conversions
		gv += c.Value
	}
	if math.Abs(gc-conv) > 1e-6*conv || math.Abs(gv-value) > 1e-6*value {
		t.Errorf("credits %v conversions, %v value; want %v, %v", gc, gv, conv, value)
	}
	if got := strings.Join(rankOf(res.Credits), ","); got != "ca,cb,cc,cd" {
		t.Errorf("credit order %s, want ca,cb,cc,cd", got)
	}
	// Same paths, same fit, bit for bit.
	again, err := Hazard(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Credits {
		if res.Credits[i] != again.Credits[i] {
			t.Fatalf("a second fit differs: %+v vs %+v", res.Credits[i], again.Credits[i])
		}
	}
}

// TestHazardHandWorked: one channel, one touch per path. "a" converts 1
// time in 4, so the chance of a touch is 1/4, all of it at the only
// occasion: the baseline and a's effect are not told apart, but their
// sum is, and a gets the one conversion.
func TestHazardHandWorked(t *testing.T) {
	res, err := Hazard(context.Background(), []Path{{Channels: []string{"a"}, Conversions: 1, Value: 5, Nulls: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if got := -math.Expm1(-(res.Baseline + res.Effect[0])); math.Abs(got-0.25) > 1e-6 {
		t.Errorf("fitted chance %.6f, want 0.25", got)
	}
	if c := res.Credits[0]; math.Abs(c.Conversions-1) > 1e-12 || math.Abs(c.Value-5) > 1e-12 {
		t.Errorf("credit %+v, want 1 conversion and 5 value", c)
	}
	if _, err := Hazard(context.Background(), []Path{{Channels: []string{"a"}, Nulls: 3}}); err == nil {
		t.Error("no conversion: want an error")
	}
}
