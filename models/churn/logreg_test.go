package churn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// newtonLogReg minimises the same penalised objective as LogReg by Newton's
// method on a standardised design z (intercept first in the result).
func newtonLogReg(t *testing.T, z *Matrix, y []float64, lambda float64) []float64 {
	n, p := z.Rows, z.Cols()
	w := make([]float64, p+1)
	for iter := 0; iter < 100; iter++ {
		g := mat.NewVecDense(p+1, nil)
		h := mat.NewSymDense(p+1, nil)
		for i := range n {
			x := append([]float64{1}, z.Row(i)...)
			var eta float64
			for j, v := range x {
				eta += w[j] * v
			}
			mu := 1 / (1 + math.Exp(-eta))
			for a := range x {
				g.SetVec(a, g.AtVec(a)+(mu-y[i])*x[a]/float64(n))
				for b := a; b < len(x); b++ {
					h.SetSym(a, b, h.At(a, b)+mu*(1-mu)*x[a]*x[b]/float64(n))
				}
			}
		}
		for j := 1; j <= p; j++ {
			g.SetVec(j, g.AtVec(j)+lambda*w[j])
			h.SetSym(j, j, h.At(j, j)+lambda)
		}
		var step mat.VecDense
		if err := step.SolveVec(h, g); err != nil {
			t.Fatal(err)
		}
		for j := range w {
			w[j] -= step.AtVec(j)
		}
		if mat.Norm(&step, math.Inf(1)) < 1e-13 {
			return w
		}
	}
	t.Fatal("Newton did not converge")
	return nil
}

// logregData draws n rows of four correlated features on different scales,
// some missing, with labels from a logistic model.
func logregData(n int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := NewMatrix([]string{"a", "b", "c", "d"}, n)
	y := make([]float64, n)
	for i := range n {
		u := rng.NormFloat64()
		a := 10 + 3*u
		b := 0.5*u + rng.NormFloat64()
		c := rng.ExpFloat64() * 100
		d := float64(rng.IntN(2))
		eta := -0.5 + 0.4*(a-10) - 0.8*b + 0.004*c + 0.3*d
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
		if rng.Float64() < 0.1 {
			c = math.NaN()
		}
		copy(x.Row(i), []float64{a, b, c, d})
	}
	return &Dataset{X: x, Y: y}
}

func TestLogRegMatchesNewton(t *testing.T) {
	for _, lambda := range []float64{0, 1e-4, 0.05} {
		ds := logregData(400, 9)
		l := DefaultLogReg()
		l.Lambda = lambda
		m, err := l.Fit(context.Background(), ds)
		if err != nil {
			t.Fatal(err)
		}
		st := m.s.(*logRegState)
		want := newtonLogReg(t, st.standardise(ds.X), ds.Y, lambda)
		got := append([]float64{st.Intercept}, st.Coef...)
		var worst float64
		for j := range want {
			worst = max(worst, math.Abs(got[j]-want[j]))
			if math.Abs(got[j]-want[j]) > 1e-5 {
				t.Errorf("lambda %v coefficient %d: LBFGS %.9f, Newton %.9f", lambda, j, got[j], want[j])
			}
		}
		t.Logf("lambda %v: %s after %d iterations, coefficients %.6f, largest gap to Newton %.2g", lambda, st.Status, st.Iterations, got, worst)
	}
}

func TestLogRegStandardisationAndContributions(t *testing.T) {
	x, err := MatrixFromRows([]string{"a", "b", "k"}, []float64{
		1, math.NaN(), 5,
		2, 4, 5,
		6, 8, 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	means, scales := standardisation(x)
	// a: mean 3, population sd sqrt((4+1+9)/3); b: over the two present
	// values, mean 6, sd 2; k: constant, scale 1.
	wantMeans := []float64{3, 6, 5}
	wantScales := []float64{math.Sqrt(14.0 / 3), 2, 1}
	for j := range means {
		if math.Abs(means[j]-wantMeans[j]) > 1e-12 || math.Abs(scales[j]-wantScales[j]) > 1e-12 {
			t.Errorf("column %d: mean %v scale %v, want %v %v", j, means[j], scales[j], wantMeans[j], wantScales[j])
		}
	}

	ds := logregData(300, 4)
	m, err := DefaultLogReg().Fit(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := m.Predict(ctx, ds.X)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Contributions(ctx, ds.X)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Additive {
		t.Error("logreg contributions should be additive")
	}
	st := m.s.(*logRegState)
	for i := range ds.X.Rows {
		sum := c.Bias[i]
		for j, v := range c.Row(i) {
			sum += v
			x := ds.X.At(i, j)
			want := 0.0 // missing: imputed with the mean, contributes nothing
			if !math.IsNaN(x) {
				want = st.Coef[j] * (x - st.Means[j]) / st.Scales[j]
			}
			if math.Abs(v-want) > 1e-12 {
				t.Fatalf("row %d feature %d: contribution %v, want coef·z = %v", i, j, v, want)
			}
		}
		if math.Abs(sum-logit(p[i])) > 1e-9 {
			t.Fatalf("row %d: contributions sum to %v, log-odds %v", i, sum, logit(p[i]))
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := DefaultLogReg().Fit(cctx, ds); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled fit: %v", err)
	}
	one := &Dataset{X: ds.X, Y: make([]float64, ds.X.Rows)}
	if _, err := DefaultLogReg().Fit(ctx, one); err == nil {
		t.Error("fit with a single class succeeded")
	}
}
