package clv

import (
	"context"
	"errors"
	"math"
	"testing"
)

func TestMaximizeLogLikExponential(t *testing.T) {
	// n i.i.d. Exp(λ) draws: ℓ = n ln λ - λ Σy, so λ̂ = n/Σy and the observed
	// information n/λ̂² gives SE(λ̂) = λ̂/√n exactly.
	ys := []float64{0.3, 1.7, 0.2, 2.9, 0.8, 1.1, 0.05, 0.6}
	n, sum := float64(len(ys)), 0.0
	for _, y := range ys {
		sum += y
	}
	f := func(p, grad []float64) float64 {
		if grad != nil {
			grad[0] = n/p[0] - sum
		}
		return n*math.Log(p[0]) - p[0]*sum
	}
	res, err := maximizeLogLik(t.Context(), f, [][]float64{{0.01}, {50}}, len(ys))
	if err != nil {
		t.Fatal(err)
	}
	lambda := n / sum
	if math.Abs(res.params[0]-lambda) > 1e-8*lambda {
		t.Errorf("λ̂ = %.12g, want %.12g", res.params[0], lambda)
	}
	if res.se == nil || math.Abs(res.se[0]-lambda/math.Sqrt(n)) > 1e-6*lambda {
		t.Errorf("SE = %v, want %.12g", res.se, lambda/math.Sqrt(n))
	}
	if want := n*math.Log(lambda) - n; math.Abs(res.logLik-want) > 1e-10 {
		t.Errorf("ℓ = %.12g, want %.12g", res.logLik, want)
	}
}

func TestMaximizeLogLikUnboundedFails(t *testing.T) {
	// ℓ = ln θ grows without bound: no optimum, the fit must say so.
	f := func(p, grad []float64) float64 {
		if grad != nil {
			grad[0] = 1 / p[0]
		}
		return math.Log(p[0])
	}
	if _, err := maximizeLogLik(t.Context(), f, [][]float64{{1}}, 10); err == nil {
		t.Error("no error for an unbounded likelihood")
	}
}

func TestFitHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := FitBGNBD(ctx, loadCDNOWSummary(t))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}
