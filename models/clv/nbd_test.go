package clv

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// simulateNoDropout draws customers who buy at Poisson rate λ ~ Gamma(r, α)
// and never drop out: the NBD story, BG/NBD's limit a -> 0.
func simulateNoDropout(seed uint64, n int, r, alpha, cohort, end float64) []Customer {
	src := rand.NewPCG(seed, 0xd0)
	rng := rand.New(src)
	lambdas := distuv.Gamma{Alpha: r, Beta: alpha, Src: src}
	_, gg := simulationTruth()
	rates := distuv.Gamma{Alpha: gg.Q, Beta: gg.V, Src: src}
	out := make([]Customer, n)
	for i := range out {
		lambda := lambdas.Rand()
		value := distuv.Gamma{Alpha: gg.P, Beta: rates.Rand(), Src: src}
		c := Customer{ID: fmt.Sprint(i), T: end - cohort*rng.Float64()}
		spend := 0.0
		for t := rng.ExpFloat64() / lambda; t <= c.T; t += rng.ExpFloat64() / lambda {
			c.X++
			c.TX = t
			spend += value.Rand()
		}
		if c.X > 0 {
			c.MeanValue = spend / c.X
		}
		out[i] = c
	}
	return out
}

// Data without dropout do not identify BG/NBD's dropout: the fit falls back
// to NBD, says why, and recovers the purchase-rate parameters.
func TestFitWithoutDropoutFallsBackToNBD(t *testing.T) {
	const r, alpha = 0.6, 5.0
	customers := simulateNoDropout(3, 8000, r, alpha, 12, 78)
	m, err := Fit(t.Context(), customers, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	if m.NBD == nil {
		t.Fatalf("BG/NBD kept (a %.4g, b %.4g, se %+v) on data without dropout", m.BGNBD.Params.A, m.BGNBD.Params.B, m.BGNBD.SE)
	}
	t.Logf("reduced: %s", m.Reduced)
	if !strings.Contains(m.Reduced, "NBD") || m.Reduced == "" {
		t.Errorf("the reason does not say what was done: %q", m.Reduced)
	}
	if ok, why := m.Identified(); !ok {
		t.Fatalf("NBD not identified: %s", why)
	}
	for _, p := range []struct {
		name           string
		est, se, truth float64
	}{{"r", m.NBD.Params.R, m.NBD.SE.R, r}, {"alpha", m.NBD.Params.Alpha, m.NBD.SE.Alpha, alpha}} {
		t.Logf("%s truth %.3f estimate %.4f se %.4f", p.name, p.truth, p.est, p.se)
		if math.Abs(p.est-p.truth) > 4*p.se || p.se > 0.15*p.truth {
			t.Errorf("%s: estimate %.4f ± %.4f, truth %.4f", p.name, p.est, p.se, p.truth)
		}
	}
	// Scores follow NBD: alive, and the posterior mean rate times t.
	c := Customer{ID: "x", X: 3, TX: 20, T: 40}
	s, err := m.Score(t.Context(), []Customer{c}, ScoreOptions{HorizonDays: 365})
	if err != nil {
		t.Fatal(err)
	}
	want := (30.0 / 7) * (m.NBD.Params.R + 3) / (m.NBD.Params.Alpha + 40)
	if s[0].ProbAlive != 1 || math.Abs(s[0].Purchases30-want) > 1e-12 {
		t.Errorf("score %+v, want p_alive 1 and %v purchases in 30 days", s[0], want)
	}
	// The saved model reads back as the reduced one.
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.NBD == nil || back.NBD.Params != m.NBD.Params || back.Reduced != m.Reduced {
		t.Errorf("loaded %+v", back)
	}
}

// With dropout in the data, BG/NBD is kept.
func TestFitWithDropoutKeepsBGNBD(t *testing.T) {
	bg, gg := simulationTruth()
	m, err := Fit(t.Context(), simulateCustomers(5, 5000, bg, gg, 12, 78), Weeks)
	if err != nil {
		t.Fatal(err)
	}
	if m.NBD != nil {
		t.Fatalf("fell back to NBD on BG/NBD data: %s", m.Reduced)
	}
}

// The likelihood's ordering: customers equal in what it reads give the
// same fit bit for bit, whatever order (and IDs) they come in.
func TestFitIgnoresCustomerOrder(t *testing.T) {
	bg, gg := simulationTruth()
	customers := simulateCustomers(9, 3000, bg, gg, 12, 78)
	a, err := Fit(t.Context(), customers, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := append([]Customer(nil), customers...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i := range shuffled {
		shuffled[i].ID = fmt.Sprintf("other-%d", i)
	}
	b, err := Fit(t.Context(), shuffled, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	if a.BGNBD.Params != b.BGNBD.Params || a.GammaGamma.Params != b.GammaGamma.Params || a.BGNBD.LogLikelihood != b.BGNBD.LogLikelihood {
		t.Errorf("order changed the fit:\n%+v\n%+v", a.BGNBD, b.BGNBD)
	}
}
