package attribution

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchPaths draws `distinct` different paths of 1 to 6 touches over n
// channels, each with 1 to 20 journeys converting at a channel-dependent rate.
func benchPaths(seed uint64, n, distinct int) []Path {
	rng := rand.New(rand.NewPCG(seed, 2))
	seen := map[string]bool{}
	var out []Path
	for len(out) < distinct {
		k := 1 + rng.IntN(6)
		chs := make([]string, k)
		miss := 1.0
		for j := range chs {
			c := rng.IntN(n)
			chs[j] = fmt.Sprintf("ch%02d", c)
			miss *= 1 - 0.02*float64(c+1)/float64(n)
		}
		key := strings.Join(chs, DefaultSeparator)
		if seen[key] {
			continue
		}
		seen[key] = true
		users := 1 + rng.IntN(20)
		var conv float64
		for u := 0; u < users; u++ {
			if rng.Float64() < 1-miss {
				conv++
			}
		}
		out = append(out, Path{Channels: chs, Conversions: conv, Value: 3 * conv, Nulls: float64(users) - conv})
	}
	return out
}

func BenchmarkMarkovOrder3(b *testing.B) {
	paths := benchPaths(1, 12, 50000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Markov(ctx, paths, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkShapleyAdditive(b *testing.B) {
	paths := benchPaths(1, 24, 50000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ShapleyAdditive(paths); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTouchHazard(b *testing.B) {
	paths := benchPaths(1, 12, 50000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Hazard(ctx, paths); err != nil {
			b.Fatal(err)
		}
	}
}
