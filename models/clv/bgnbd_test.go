package clv

import (
	"math"
	"testing"
	"time"
)

// publishedBGNBD returns the BTYD walkthrough's CDNOW estimates (v2.4.3,
// pp. 19-20; 7 digits) and the 3-digit values quoted in FHL 2005 and used in
// the BTYD manual's examples.
func publishedBGNBD() (full, quoted BGNBDParams) {
	return BGNBDParams{R: 0.2425982, Alpha: 4.4136842, A: 0.7929899, B: 2.4261667},
		BGNBDParams{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
}

const publishedBGNBDLogLik = -9582.429

func TestBGNBDPublishedPredictions(t *testing.T) {
	full, quoted := publishedBGNBD()
	heavy := Customer{ID: "x=26", X: 26, TX: 30.85714, T: 31}
	tests := []struct {
		name string
		got  func() (float64, error)
		want float64
		tol  float64
	}{
		// FHL 2005 / Hardie's spreadsheet, 4 decimals: check to 3.
		{"E[X(1)]", func() (float64, error) { return full.ExpectedPurchases(1) }, 0.0532, 5e-4},
		{"E[X(3)]", func() (float64, error) { return full.ExpectedPurchases(3) }, 0.1506, 5e-4},
		{"E[X(32)]", func() (float64, error) { return full.ExpectedPurchases(32) }, 1.0437, 5e-4},
		{"E[X(78)]", func() (float64, error) { return full.ExpectedPurchases(78) }, 1.8576, 5e-4},
		{"E[Y(39)|2,30.43,38.86]", func() (float64, error) {
			return full.ConditionalExpectedPurchases(Customer{X: 2, TX: 30.43, T: 38.86}, 39)
		}, 1.226, 5e-4},
		// BTYD walkthrough, 7 significant digits.
		{"E[Y(52)|26,30.85714,31]", func() (float64, error) { return full.ConditionalExpectedPurchases(heavy, 52) }, 25.75659, 1e-4},
		{"P(alive|26,30.85714,31)", func() (float64, error) { return full.ProbAlive(heavy) }, 0.9688523, 1e-6},
		// BTYD manual examples (bgnbd.pmf) use the 3-digit parameters;
		// 0.5737864 is (4.414/43.414)^0.243. With the 7-digit parameters
		// P(X(39)=0) is 0.5743, the same to 3 decimals only after rounding.
		{"P(X(39)=0)", func() (float64, error) { return quoted.ProbPurchases(0, 39) }, 0.5737864, 1e-7},
		{"P(X(2)=10)", func() (float64, error) { return quoted.ProbPurchases(10, 2) }, 1.07869e-07, 1e-12},
		{"P(X(30)=11)", func() (float64, error) { return quoted.ProbPurchases(11, 30) }, 0.0019995214, 1e-10},
		{"P(X(30)=15)", func() (float64, error) { return quoted.ProbPurchases(15, 30) }, 0.0007023638, 1e-10},
		{"P(X(30)=20)", func() (float64, error) { return quoted.ProbPurchases(20, 30) }, 0.0002222260, 1e-10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > tc.tol {
				t.Errorf("got %.9g, want %.9g ± %g", got, tc.want, tc.tol)
			}
		})
	}
}

func TestBGNBDProbPurchasesSumsToOne(t *testing.T) {
	full, _ := publishedBGNBD()
	for _, horizon := range []float64{0, 1, 39, 78} {
		sum, mean := 0.0, 0.0
		for n := 0; n < 400; n++ {
			p, err := full.ProbPurchases(n, horizon)
			if err != nil {
				t.Fatal(err)
			}
			sum += p
			mean += float64(n) * p
		}
		want, err := full.ExpectedPurchases(horizon)
		if err != nil {
			t.Fatal(err)
		}
		// The pmf and eq. 9 are separate formulas: they must agree.
		if math.Abs(sum-1) > 1e-9 || math.Abs(mean-want) > 1e-6 {
			t.Errorf("t=%v: Σp=%.12f, Σn·p=%.9f, E[X(t)]=%.9f", horizon, sum, mean, want)
		}
	}
}

func TestBGNBDGradient(t *testing.T) {
	customers := loadCDNOWSummary(t)
	d, err := newBGNBDData(customers)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []BGNBDParams{
		{R: 0.24, Alpha: 4.4, A: 0.79, B: 2.4},
		{R: 1, Alpha: 10, A: 1.5, B: 0.3},
		{R: 3, Alpha: 0.5, A: 0.2, B: 8},
	} {
		grad := make([]float64, 4)
		d.logLik(p, grad)
		x := []float64{p.R, p.Alpha, p.A, p.B}
		for i := range x {
			num := fivePointDerivative(func(v []float64) float64 { return d.logLik(BGNBDParams{v[0], v[1], v[2], v[3]}, nil) }, x, i)
			if math.Abs(num-grad[i]) > 1e-6*math.Max(1, math.Abs(num)) {
				t.Errorf("%+v: d/dθ%d analytic %.10g, numeric %.10g", p, i, grad[i], num)
			}
		}
	}
}

func TestFitBGNBDCDNOWSummary(t *testing.T) {
	customers := loadCDNOWSummary(t)
	if len(customers) != 2357 {
		t.Fatalf("read %d customers, want 2357", len(customers))
	}
	fit, err := FitBGNBD(t.Context(), customers)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := publishedBGNBD()
	checkRel(t, "r", fit.Params.R, full.R, 0.005)
	checkRel(t, "alpha", fit.Params.Alpha, full.Alpha, 0.005)
	checkRel(t, "a", fit.Params.A, full.A, 0.005)
	checkRel(t, "b", fit.Params.B, full.B, 0.005)
	if math.Abs(fit.LogLikelihood-publishedBGNBDLogLik) > 0.01 {
		t.Errorf("log-likelihood %.4f, want %.3f ± 0.01", fit.LogLikelihood, publishedBGNBDLogLik)
	}
	// lifetimes' BetaGeoFitter on this same file reports standard errors
	// 0.012557, 0.378221, 0.185719, 0.705345 (numdifftools Hessian); ours
	// come from a different numerical Hessian of the same likelihood.
	if fit.SE == nil {
		t.Fatal("no standard errors")
	}
	checkRel(t, "se(r)", fit.SE.R, 0.012557, 1e-3)
	checkRel(t, "se(alpha)", fit.SE.Alpha, 0.378221, 1e-3)
	checkRel(t, "se(a)", fit.SE.A, 0.185719, 1e-3)
	checkRel(t, "se(b)", fit.SE.B, 0.705345, 1e-3)
	if fit.N != 2357 {
		t.Errorf("N = %d", fit.N)
	}
}

func TestFitBGNBDCDNOWTransactions(t *testing.T) {
	txs := loadCDNOWTransactions(t)
	if len(txs) != 6919 {
		t.Fatalf("read %d transactions, want 6919", len(txs))
	}
	// BTYD: calibration through 1997-09-30 inclusive, T and t_x in days/7.
	customers, err := Summarize(txs, time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC), Weeks)
	if err != nil {
		t.Fatal(err)
	}
	published := loadCDNOWWithSpend(t)
	if len(customers) != len(published) {
		t.Fatalf("%d customers from transactions, %d published", len(customers), len(published))
	}
	byID := make(map[string]Customer, len(customers))
	for _, c := range customers {
		byID[c.ID] = c
	}
	// The published file rounds to 2 decimals.
	for _, want := range published {
		got, ok := byID[want.ID]
		if !ok {
			t.Fatalf("customer %s missing", want.ID)
		}
		if got.X != want.X || math.Abs(got.TX-want.TX) > 0.005+1e-9 || math.Abs(got.T-want.T) > 0.005+1e-9 ||
			math.Abs(got.MeanValue-want.MeanValue) > 0.005+1e-9 {
			t.Fatalf("customer %s: built %+v, published %+v", want.ID, got, want)
		}
	}

	fit, err := FitBGNBD(t.Context(), customers)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := publishedBGNBD()
	checkRel(t, "r", fit.Params.R, full.R, 0.005)
	checkRel(t, "alpha", fit.Params.Alpha, full.Alpha, 0.005)
	checkRel(t, "a", fit.Params.A, full.A, 0.005)
	checkRel(t, "b", fit.Params.B, full.B, 0.005)
	if math.Abs(fit.LogLikelihood-publishedBGNBDLogLik) > 0.01 {
		t.Errorf("log-likelihood %.4f, want %.3f ± 0.01", fit.LogLikelihood, publishedBGNBDLogLik)
	}
	// On the exact (unrounded) data our optimum must be at least as good as
	// the published one, which BTYD found with Nelder-Mead.
	llPub, err := full.LogLikelihood(customers)
	if err != nil {
		t.Fatal(err)
	}
	if fit.LogLikelihood < llPub-1e-9 {
		t.Errorf("fitted log-likelihood %.6f below the published optimum's %.6f", fit.LogLikelihood, llPub)
	}
}

func TestBGNBDLogLikelihoodAtPublished(t *testing.T) {
	full, _ := publishedBGNBD()
	// On the 2-decimal summary file the published optimum scores -9582.4256;
	// the published -9582.429 is on exact day counts (previous test).
	ll, err := full.LogLikelihood(loadCDNOWSummary(t))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ll-publishedBGNBDLogLik) > 0.01 {
		t.Errorf("log-likelihood at published parameters %.4f, want %.3f ± 0.01", ll, publishedBGNBDLogLik)
	}
}

func TestBGNBDNearAEqualsOne(t *testing.T) {
	// The expectation formulas divide by a-1; at a = 1 the limit must be
	// continuous with its neighbours.
	c := Customer{X: 3, TX: 20, T: 30}
	p := BGNBDParams{R: 0.5, Alpha: 5, A: 1, B: 2}
	at, err := p.ConditionalExpectedPurchases(c, 10)
	if err != nil {
		t.Fatal(err)
	}
	p.A = 1 + 1e-3
	above, _ := p.ConditionalExpectedPurchases(c, 10)
	p.A = 1 - 1e-3
	below, _ := p.ConditionalExpectedPurchases(c, 10)
	if math.Abs(at-(above+below)/2) > 1e-6 || math.IsNaN(at) {
		t.Errorf("at a=1: %.9f, neighbours %.9f %.9f", at, below, above)
	}
}

func TestBGNBDRejectsBadInput(t *testing.T) {
	p, _ := publishedBGNBD()
	bad := []Customer{
		{ID: "neg x", X: -1, T: 3},
		{ID: "frac x", X: 1.5, TX: 1, T: 3},
		{ID: "tx>T", X: 1, TX: 4, T: 3},
		{ID: "x without tx", X: 2, TX: 0, T: 3},
	}
	for _, c := range bad {
		if _, err := p.ProbAlive(c); err == nil {
			t.Errorf("%s: no error", c.ID)
		}
	}
	if _, err := (BGNBDParams{R: -1, Alpha: 1, A: 1, B: 1}).ExpectedPurchases(1); err == nil {
		t.Error("negative r accepted")
	}
	if _, err := FitBGNBD(t.Context(), []Customer{{ID: "1", T: 5}, {ID: "2", T: 3}}); err == nil {
		t.Error("fit without repeat purchases accepted")
	}
}

func checkRel(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Abs(want) {
		t.Errorf("%s = %.7g, want %.7g within %.2g%%", name, got, want, 100*tol)
	}
}

// fivePointDerivative differentiates f in coordinate i with the five-point
// stencil and a relative step of 1e-3: truncation error O(h⁴) and rounding
// error about 1e-16·|f|/h stay far below the 1e-6 tolerance of the gradient
// tests, where a central difference with a tiny step would not (|f| ~ 1e4).
func fivePointDerivative(f func([]float64) float64, x []float64, i int) float64 {
	h := 1e-3 * x[i]
	at := func(k float64) float64 {
		y := append([]float64(nil), x...)
		y[i] += k * h
		return f(y)
	}
	return (-at(2) + 8*at(1) - 8*at(-1) + at(-2)) / (12 * h)
}

func TestFitBGNBDTimeUnitInvariance(t *testing.T) {
	// Measuring time in days instead of weeks rescales α by 7 and leaves r,
	// a, b alone; each repeat purchase's density gains a factor 1/7, so the
	// log-likelihood drops by Σx·ln 7.
	txs := loadCDNOWTransactions(t)
	calEnd := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	weekly, err := Summarize(txs, calEnd, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	daily, err := Summarize(txs, calEnd, Days)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := FitBGNBD(t.Context(), weekly)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := FitBGNBD(t.Context(), daily)
	if err != nil {
		t.Fatal(err)
	}
	sumX := 0.0
	for _, c := range weekly {
		sumX += c.X
	}
	checkRel(t, "r", fd.Params.R, fw.Params.R, 1e-5)
	checkRel(t, "alpha/7", fd.Params.Alpha/7, fw.Params.Alpha, 1e-5)
	checkRel(t, "a", fd.Params.A, fw.Params.A, 1e-4)
	checkRel(t, "b", fd.Params.B, fw.Params.B, 1e-4)
	if want := fw.LogLikelihood - sumX*math.Log(7); math.Abs(fd.LogLikelihood-want) > 1e-6 {
		t.Errorf("daily log-likelihood %.8f, want %.8f", fd.LogLikelihood, want)
	}
}
