package clv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// simulateCustomers draws n customers from the BG/NBD and Gamma-Gamma
// generative stories (FHL 2005): each is acquired at a uniform time in the
// first `cohort` units and observed until `end`; while alive they buy at
// Poisson rate λ ~ Gamma(r, α) and drop out after each repeat purchase with
// probability p ~ Beta(a, b); each purchase is worth Gamma(p_gg, ν) with
// ν ~ Gamma(q, v). Time is continuous, so no purchases collapse.
func simulateCustomers(seed uint64, n int, bg BGNBDParams, gg GammaGammaParams, cohort, end float64) []Customer {
	src := rand.NewPCG(seed, 0x5eed)
	rng := rand.New(src)
	lambdas := distuv.Gamma{Alpha: bg.R, Beta: bg.Alpha, Src: src}
	dropouts := distuv.Beta{Alpha: bg.A, Beta: bg.B, Src: src}
	rates := distuv.Gamma{Alpha: gg.Q, Beta: gg.V, Src: src}
	out := make([]Customer, n)
	for i := range out {
		lambda, p, nu := lambdas.Rand(), dropouts.Rand(), rates.Rand()
		value := distuv.Gamma{Alpha: gg.P, Beta: nu, Src: src}
		c := Customer{ID: fmt.Sprint(i), T: end - cohort*rng.Float64()}
		spend := 0.0
		for t := 0.0; ; {
			t += rng.ExpFloat64() / lambda
			if t > c.T {
				break
			}
			c.X++
			c.TX = t
			spend += value.Rand()
			if rng.Float64() < p {
				break
			}
		}
		if c.X > 0 {
			c.MeanValue = spend / c.X
		}
		out[i] = c
	}
	return out
}

// simulationTruth returns CDNOW-like parameters for the simulations.
func simulationTruth() (BGNBDParams, GammaGammaParams) {
	return BGNBDParams{R: 0.25, Alpha: 4.4, A: 0.8, B: 2.4}, GammaGammaParams{P: 6, Q: 4, V: 15}
}

func TestFitRecoversSimulatedParameters(t *testing.T) {
	bg, gg := simulationTruth()
	// 30,000 customers acquired over 12 weeks, observed to week 78: the
	// standard errors are then 1-6% of the values.
	customers := simulateCustomers(1, 30000, bg, gg, 12, 78)
	m, err := Fit(t.Context(), customers, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	if m.BGNBD.SE == nil || m.GammaGamma.SE == nil {
		t.Fatal("no standard errors")
	}
	// The MLE is asymptotically normal around the truth with these standard
	// errors, so |estimate - truth| <= 4 SE fails with probability 6e-5 per
	// parameter when the fit is right; SE <= 15% of the value keeps the
	// check from passing merely because the errors are huge.
	for _, p := range []struct {
		name           string
		est, se, truth float64
	}{
		{"r", m.BGNBD.Params.R, m.BGNBD.SE.R, bg.R},
		{"alpha", m.BGNBD.Params.Alpha, m.BGNBD.SE.Alpha, bg.Alpha},
		{"a", m.BGNBD.Params.A, m.BGNBD.SE.A, bg.A},
		{"b", m.BGNBD.Params.B, m.BGNBD.SE.B, bg.B},
		{"p", m.GammaGamma.Params.P, m.GammaGamma.SE.P, gg.P},
		{"q", m.GammaGamma.Params.Q, m.GammaGamma.SE.Q, gg.Q},
		{"v", m.GammaGamma.Params.V, m.GammaGamma.SE.V, gg.V},
	} {
		t.Logf("%-5s truth %6.3f estimate %7.4f se %.4f (z = %+.2f)", p.name, p.truth, p.est, p.se, (p.est-p.truth)/p.se)
		if math.Abs(p.est-p.truth) > 4*p.se || p.se > 0.15*p.truth {
			t.Errorf("%s: estimate %.4f ± %.4f, truth %.4f", p.name, p.est, p.se, p.truth)
		}
	}
}

func TestStandardErrorsCalibrated(t *testing.T) {
	// If the standard errors are right, z = (estimate - truth)/SE is about
	// N(0, 1) and the sum of z² over reps × 4 BG/NBD parameters is about
	// χ² with 80 degrees of freedom; the test accepts its central 99.9%
	// (about [46, 126]). Standard errors off by a factor √2 put the sum
	// near 40 or 160.
	const reps = 20
	bg, gg := simulationTruth()
	chi2 := 0.0
	for rep := range reps {
		customers := simulateCustomers(uint64(100+rep), 5000, bg, gg, 12, 78)
		fit, err := FitBGNBD(t.Context(), customers)
		if err != nil {
			t.Fatal(err)
		}
		if fit.SE == nil {
			t.Fatalf("rep %d: no standard errors", rep)
		}
		for _, z := range []float64{
			(fit.Params.R - bg.R) / fit.SE.R, (fit.Params.Alpha - bg.Alpha) / fit.SE.Alpha,
			(fit.Params.A - bg.A) / fit.SE.A, (fit.Params.B - bg.B) / fit.SE.B,
		} {
			chi2 += z * z
		}
	}
	dist := distuv.ChiSquared{K: 4 * reps}
	lo, hi := dist.Quantile(0.0005), dist.Quantile(0.9995)
	t.Logf("Σz² = %.1f over %d estimates, accepted [%.1f, %.1f]", chi2, 4*reps, lo, hi)
	if chi2 < lo || chi2 > hi {
		t.Errorf("Σz² = %.1f outside [%.1f, %.1f]: standard errors are miscalibrated", chi2, lo, hi)
	}
}

func BenchmarkFit200k(b *testing.B) {
	bg, gg := simulationTruth()
	customers := simulateCustomers(7, 200_000, bg, gg, 12, 78)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Fit(b.Context(), customers, Weeks); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScore200k(b *testing.B) {
	bg, gg := simulationTruth()
	customers := simulateCustomers(7, 200_000, bg, gg, 12, 78)
	m := &Model{TimeUnit: Weeks, BGNBD: BGNBDFit{Params: bg}, GammaGamma: GammaGammaFit{Params: gg}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Score(b.Context(), customers, ScoreOptions{HorizonDays: 365, AnnualDiscountRate: 0.1}); err != nil {
			b.Fatal(err)
		}
	}
}
