package clv

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// NBDParams are the NBD purchase model's parameters: BG/NBD without
// dropout. Each customer buys at a Poisson rate λ, Gamma(shape R, rate
// Alpha) across customers, and never drops out. It is what BG/NBD reduces
// to when the data show no dropout (a -> 0 or b -> infinity, E[p] -> 0).
type NBDParams struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
}

// NBDFit is an NBD model fitted by maximum likelihood.
type NBDFit struct {
	Params NBDParams `json:"params"`
	// SE are standard errors from the observed information (nil when it is
	// not positive definite).
	SE            *NBDParams `json:"se,omitempty"`
	LogLikelihood float64    `json:"log_likelihood"`
	N             int        `json:"n"`
	Iterations    int        `json:"iterations"`
}

func (p NBDParams) validate() error {
	if !(p.R > 0) || !(p.Alpha > 0) || math.IsInf(p.R, 0) || math.IsInf(p.Alpha, 0) {
		return fmt.Errorf("nbd parameters must be positive and finite, got %+v", p)
	}
	return nil
}

// ProbAlive is 1: the NBD model has no dropout.
func (p NBDParams) ProbAlive(c Customer) (float64, error) {
	if err := validateCustomer(c); err != nil {
		return 0, fmt.Errorf("nbd probability alive: %w", err)
	}
	return 1, nil
}

// ConditionalExpectedPurchases returns E[Y(t) | x, T] = t·(r+x)/(α+T): the
// posterior mean rate of a customer who made x repeat purchases in T,
// times t.
func (p NBDParams) ConditionalExpectedPurchases(c Customer, t float64) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("nbd conditional expected purchases: %w", err)
	}
	if err := validateCustomer(c); err != nil {
		return 0, fmt.Errorf("nbd conditional expected purchases: %w", err)
	}
	if !(t >= 0) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("nbd conditional expected purchases: t=%v is not a non-negative time", t)
	}
	return t * (p.R + c.X) / (p.Alpha + c.T), nil
}

// LogLikelihood is the NBD log-likelihood of the customers' (x, T), on the
// same footing as BG/NBD's (its a -> 0 limit):
//
//	ℓ = ln Γ(r+x) - ln Γ(r) + r ln α - (r+x) ln(α+T)
func (p NBDParams) LogLikelihood(customers []Customer) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("nbd log-likelihood: %w", err)
	}
	d, err := newBGNBDData(customers)
	if err != nil {
		return 0, fmt.Errorf("nbd log-likelihood: %w", err)
	}
	return nbdLogLik(d, p, nil), nil
}

func nbdLogLik(d *bgnbdData, p NBDParams, grad []float64) float64 {
	r, alpha := p.R, p.Alpha
	lnAlpha := math.Log(alpha)
	lgR, _ := math.Lgamma(r)
	var psiR float64
	if grad != nil {
		psiR = mathext.Digamma(r)
		grad[0], grad[1] = 0, 0
	}
	ll := 0.0
	for j, x := range d.xs {
		w := d.xw[j]
		lgRX, _ := math.Lgamma(r + x)
		ll += w * (lgRX - lgR + r*lnAlpha)
		if grad != nil {
			grad[0] += w * (mathext.Digamma(r+x) - psiR + lnAlpha)
			grad[1] += w * r / alpha
		}
	}
	for i, x := range d.x {
		w := d.w[i]
		lnT := math.Log(alpha + d.t[i])
		ll -= w * (r + x) * lnT
		if grad != nil {
			grad[0] -= w * lnT
			grad[1] -= w * (r + x) / (alpha + d.t[i])
		}
	}
	return ll
}

// FitNBD fits the NBD model by maximum likelihood, from starts matching the
// mean purchase rate Σx/ΣT.
func FitNBD(ctx context.Context, customers []Customer) (NBDFit, error) {
	d, err := newBGNBDData(customers)
	if err != nil {
		return NBDFit{}, fmt.Errorf("fit nbd: %w", err)
	}
	var sumX, sumT float64
	for _, c := range customers {
		sumX += c.X
		sumT += c.T
	}
	if sumX == 0 || sumT == 0 {
		return NBDFit{}, fmt.Errorf("fit nbd: no repeat purchase among %d customers", len(customers))
	}
	rate := sumX / sumT
	f := func(params, grad []float64) float64 {
		return nbdLogLik(d, NBDParams{R: params[0], Alpha: params[1]}, grad)
	}
	res, err := maximizeLogLik(ctx, f, [][]float64{{1, 1 / rate}, {0.5, 0.5 / rate}}, d.n)
	if err != nil {
		return NBDFit{}, fmt.Errorf("fit nbd: %w", err)
	}
	fit := NBDFit{Params: NBDParams{R: res.params[0], Alpha: res.params[1]}, LogLikelihood: res.logLik,
		N: d.n, Iterations: res.iterations}
	if res.se != nil {
		fit.SE = &NBDParams{R: res.se[0], Alpha: res.se[1]}
	}
	return fit, nil
}

// Thresholds of an identified BG/NBD fit.
const (
	// minDropout: a mean dropout probability after a purchase, a/(a+b),
	// below one in ten thousand is no dropout the data can show.
	minDropout = 1e-4
	// maxRelativeSE: a parameter whose standard error is this many times
	// its value is not pinned down by the data.
	maxRelativeSE = 10
)

// Unidentified says, in words, why a BG/NBD fit does not identify its
// parameters (a boundary estimate, huge or missing standard errors), or ""
// when it does.
func (f BGNBDFit) Unidentified() string {
	p := f.Params
	if drop := p.A / (p.A + p.B); drop < minDropout || math.Log(p.A) < -maxLogParam+5 || math.Log(p.B) > maxLogParam-5 {
		return fmt.Sprintf("no dropout visible in this data (estimated dropout probability after a purchase %.2g, a = %.3g, b = %.3g)", drop, p.A, p.B)
	}
	if f.SE == nil {
		return "the BG/NBD parameters are not identified: the observed information matrix is not positive definite at the optimum"
	}
	for _, c := range []struct {
		name  string
		v, se float64
	}{{"r", p.R, f.SE.R}, {"alpha", p.Alpha, f.SE.Alpha}, {"a", p.A, f.SE.A}, {"b", p.B, f.SE.B}} {
		if c.se > maxRelativeSE*c.v {
			return fmt.Sprintf("the BG/NBD parameter %s is not identified: its standard error is %.0f times its value", c.name, c.se/c.v)
		}
	}
	return ""
}
