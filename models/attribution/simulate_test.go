package attribution

import (
	"context"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// simulatePaths draws journeys over channels named ch0, ch1, ... whose touches
// are picked uniformly; each touch of channel c converts independently with
// probability effects[c], so P(convert) = 1 - prod(1 - effect). Journeys are
// aggregated into paths; each conversion is worth 1.
func simulatePaths(seed uint64, users, maxLen int, effects []float64) []Path {
	rng := rand.New(rand.NewPCG(seed, 1))
	byKey := map[string]*Path{}
	var keys []string
	names := make([]string, len(effects))
	for i := range names {
		names[i] = "ch" + string(rune('a'+i))
	}
	for u := 0; u < users; u++ {
		n := 1 + rng.IntN(maxLen)
		chs := make([]string, n)
		miss := 1.0
		for j := range chs {
			c := rng.IntN(len(effects))
			chs[j] = names[c]
			miss *= 1 - effects[c]
		}
		key := strings.Join(chs, DefaultSeparator)
		p, ok := byKey[key]
		if !ok {
			p = &Path{Channels: chs}
			byKey[key] = p
			keys = append(keys, key)
		}
		if rng.Float64() < 1-miss {
			p.Conversions++
			p.Value++
		} else {
			p.Nulls++
		}
	}
	sort.Strings(keys)
	out := make([]Path, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out
}

// rankOf returns channel names ordered by descending credited conversions.
func rankOf(cs []Credit) []string {
	s := append([]Credit(nil), cs...)
	sort.Slice(s, func(i, j int) bool { return s[i].Conversions > s[j].Conversions })
	out := make([]string, len(s))
	for i, c := range s {
		out[i] = c.Channel
	}
	return out
}

func TestSimulatedRanking(t *testing.T) {
	// True per-touch effects strictly decrease from cha to che, so the true
	// order is cha, chb, chc, chd, che.
	effects := []float64{0.20, 0.12, 0.07, 0.03, 0.01}
	want := []string{"cha", "chb", "chc", "chd", "che"}
	paths := simulatePaths(42, 200000, 4, effects)
	ctx := context.Background()
	runs := map[string]func() ([]Credit, error){
		"markov order 1": func() ([]Credit, error) {
			r, err := Markov(ctx, paths, 1)
			return r.Credits, err
		},
		"markov order 2": func() ([]Credit, error) {
			r, err := Markov(ctx, paths, 2)
			return r.Credits, err
		},
		"markov order 3": func() ([]Credit, error) {
			r, err := Markov(ctx, paths, 3)
			return r.Credits, err
		},
		"shapley additive": func() ([]Credit, error) { return ShapleyAdditive(paths) },
		"touch hazard": func() ([]Credit, error) {
			r, err := Hazard(ctx, paths)
			return r.Credits, err
		},
	}
	for name, run := range runs {
		t.Run(name, func(t *testing.T) {
			cs, err := run()
			if err != nil {
				t.Fatal(err)
			}
			got := rankOf(cs)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("rank = %v, want %v (credits %+v)", got, want, cs)
			}
		})
	}
}
