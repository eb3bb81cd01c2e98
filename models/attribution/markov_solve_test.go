package attribution

import (
	"context"
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// denseAbsorb solves (I - Q) x = r with gonum's dense LU, the textbook exact
// absorption probability, to cross-check the sparse iteration.
func denseAbsorb(t *testing.T, ch chain, reward []float64, removed int) float64 {
	t.Helper()
	n := len(ch.keys)
	a := mat.NewDense(n, n, nil)
	r := mat.NewVecDense(n, nil)
	for s := 0; s < n; s++ {
		a.Set(s, s, 1)
		if removed >= 0 && ch.keys[s].contains(removed) {
			continue // x_s = 0
		}
		r.SetVec(s, reward[s])
		for _, e := range ch.edges[s] {
			if removed >= 0 && ch.keys[e.to].contains(removed) {
				continue
			}
			a.Set(s, e.to, a.At(s, e.to)-e.p)
		}
	}
	var x mat.VecDense
	if err := x.SolveVec(a, r); err != nil {
		t.Fatal(err)
	}
	return x.AtVec(0)
}

func TestAbsorbMatchesDenseSolve(t *testing.T) {
	// Repeats and loops are frequent here (5 channels, up to 4 touches).
	paths := simulatePaths(3, 20000, 4, []float64{0.2, 0.12, 0.07, 0.03, 0.01})
	_, idx := channelIndex(paths)
	for order := 1; order <= MaxMarkovOrder; order++ {
		ch := buildChain(paths, idx, order)
		for removed := -1; removed < len(idx); removed++ {
			for name, reward := range map[string][]float64{"conversion": ch.pConv, "value": ch.vConv} {
				got, err := ch.absorb(context.Background(), reward, removed)
				if err != nil {
					t.Fatal(err)
				}
				want := denseAbsorb(t, ch, reward, removed)
				if math.Abs(got-want) > 1e-10 {
					t.Errorf("order %d %s removed %d: iteration %.15g, dense %.15g", order, name, removed, got, want)
				}
			}
		}
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Markov(ctx, threeChannel(), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("markov error = %v, want context.Canceled", err)
	}
}
