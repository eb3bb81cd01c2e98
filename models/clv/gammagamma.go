package clv

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// GammaGammaParams are the Gamma-Gamma spend parameters: each purchase's
// value is Gamma(shape P, rate ν) and ν is Gamma(shape Q, rate V) across
// customers, so V is in money units.
type GammaGammaParams struct {
	P float64 `json:"p"`
	Q float64 `json:"q"`
	V float64 `json:"v"`
}

// GammaGammaFit is a Gamma-Gamma model fitted by maximum likelihood.
type GammaGammaFit struct {
	Params GammaGammaParams `json:"params"`
	// SE holds the standard errors of Params (delta method from the inverse
	// observed information); nil when the information matrix at the optimum
	// is not positive definite.
	SE            *GammaGammaParams `json:"se,omitempty"`
	LogLikelihood float64           `json:"log_likelihood"`
	// N is the number of customers the model was fitted on: those with
	// X > 0 and MeanValue > 0.
	N int `json:"n"`
	// Excluded counts customers with X > 0 left out because MeanValue <= 0
	// (net refunds), where the spend density is not defined.
	Excluded   int `json:"excluded"`
	Iterations int `json:"iterations"`
}

func (p GammaGammaParams) validate() error {
	for _, v := range []float64{p.P, p.Q, p.V} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("gamma-gamma parameters must be positive and finite, got %+v", p)
		}
	}
	return nil
}

// ggData holds the repeat customers' (x, m̄) reduced for the likelihood:
// the Γ terms depend on x alone and are summed per distinct x, and the terms
// linear in p are summed once, so each evaluation costs one logarithm per
// customer.
type ggData struct {
	x, m   []float64 // per customer
	xs, xw []float64 // distinct x and their counts
	// sumXLogXM is Σ x·ln(x·m̄) and sumLogM is Σ ln m̄: with them
	// Σ (px-1) ln m̄ + px ln x = p·sumXLogXM - sumLogM.
	sumXLogXM, sumLogM float64
	excluded           int
}

func newGGData(customers []Customer) (*ggData, error) {
	d := &ggData{}
	xs := make(map[float64]int)
	for _, c := range customers {
		if !(c.X >= 0) || math.IsInf(c.X, 0) || math.IsNaN(c.MeanValue) || math.IsInf(c.MeanValue, 0) {
			return nil, fmt.Errorf("customer %q: x=%v, mean value=%v", c.ID, c.X, c.MeanValue)
		}
		if c.X == 0 {
			continue
		}
		if c.MeanValue <= 0 {
			d.excluded++
			continue
		}
		d.x = append(d.x, c.X)
		d.m = append(d.m, c.MeanValue)
		d.sumXLogXM += c.X * math.Log(c.X*c.MeanValue)
		d.sumLogM += math.Log(c.MeanValue)
		j, ok := xs[c.X]
		if !ok {
			j = len(d.xs)
			xs[c.X] = j
			d.xs, d.xw = append(d.xs, c.X), append(d.xw, 0)
		}
		d.xw[j]++
	}
	return d, nil
}

// logLik returns the Gamma-Gamma log-likelihood of the mean spends and, when
// grad is not nil, its gradient with respect to (p, q, v). The density of m̄
// given x (Fader & Hardie, "The Gamma-Gamma model of monetary value"; m̄·x
// is a sum of x Gamma(p, ν) values) is
//
//	Γ(px+q) / (Γ(px) Γ(q)) · v^q · m̄^(px-1) · x^(px) / (v + x m̄)^(px+q)
func (d *ggData) logLik(p GammaGammaParams, grad []float64) float64 {
	n := float64(len(d.x))
	lgQ, _ := math.Lgamma(p.Q)
	lnV := math.Log(p.V)
	ll := n*(p.Q*lnV-lgQ) + p.P*d.sumXLogXM - d.sumLogM
	var dp, dq, dv float64
	if grad != nil {
		dp = d.sumXLogXM
		dq = n * (lnV - mathext.Digamma(p.Q))
		dv = n * p.Q / p.V
	}
	for j, x := range d.xs {
		w, px := d.xw[j], p.P*x
		lgPXQ, _ := math.Lgamma(px + p.Q)
		lgPX, _ := math.Lgamma(px)
		ll += w * (lgPXQ - lgPX)
		if grad != nil {
			psiPXQ := mathext.Digamma(px + p.Q)
			dp += w * x * (psiPXQ - mathext.Digamma(px))
			dq += w * psiPXQ
		}
	}
	for i, x := range d.x {
		px := p.P * x
		vxm := p.V + x*d.m[i]
		lnVXM := math.Log(vxm)
		ll -= (px + p.Q) * lnVXM
		if grad != nil {
			dp -= x * lnVXM
			dq -= lnVXM
			dv -= (px + p.Q) / vxm
		}
	}
	if grad != nil {
		grad[0], grad[1], grad[2] = dp, dq, dv
	}
	return ll
}

// LogLikelihood returns the Gamma-Gamma log-likelihood of the customers'
// mean repeat spend under p, over customers with X > 0 and MeanValue > 0.
func (p GammaGammaParams) LogLikelihood(customers []Customer) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("gamma-gamma log-likelihood: %w", err)
	}
	d, err := newGGData(customers)
	if err != nil {
		return 0, fmt.Errorf("gamma-gamma log-likelihood: %w", err)
	}
	return d.logLik(p, nil), nil
}

// FitGammaGamma fits the Gamma-Gamma spend model by maximum likelihood on the
// customers with X > 0 and MeanValue > 0 (the others carry no spend
// information). Two starts are tried, both with the implied population mean
// spend p·v/(q-1) equal to the sample mean of MeanValue; the best optimum is
// kept.
func FitGammaGamma(ctx context.Context, customers []Customer) (GammaGammaFit, error) {
	d, err := newGGData(customers)
	if err != nil {
		return GammaGammaFit{}, fmt.Errorf("fit gamma-gamma: %w", err)
	}
	if len(d.x) < 2 {
		return GammaGammaFit{}, fmt.Errorf("fit gamma-gamma: %d customers with repeat purchases and positive spend, need at least 2", len(d.x))
	}
	mean := 0.0
	for _, m := range d.m {
		mean += m
	}
	mean /= float64(len(d.m))
	starts := [][]float64{
		{1, 2, mean},
		{4, 4, 0.75 * mean},
	}
	f := func(params, grad []float64) float64 {
		return d.logLik(GammaGammaParams{P: params[0], Q: params[1], V: params[2]}, grad)
	}
	res, err := maximizeLogLik(ctx, f, starts, len(d.x))
	if err != nil {
		return GammaGammaFit{}, fmt.Errorf("fit gamma-gamma: %w", err)
	}
	fit := GammaGammaFit{
		Params:        GammaGammaParams{P: res.params[0], Q: res.params[1], V: res.params[2]},
		LogLikelihood: res.logLik,
		N:             len(d.x),
		Excluded:      d.excluded,
		Iterations:    res.iterations,
	}
	if res.se != nil {
		fit.SE = &GammaGammaParams{P: res.se[0], Q: res.se[1], V: res.se[2]}
	}
	return fit, nil
}

// ConditionalExpectedSpend returns E[M | x, m̄], the expected mean value of
// customer c's future purchases (same note):
//
//	p·(v + x·m̄) / (p·x + q - 1)
//
// a weighted average of the population mean p·v/(q-1) and the customer's own
// m̄. For x = 0 it is the population mean; a negative m̄ (net refunds) counts
// as zero. It needs q > 1, otherwise the population mean spend is infinite.
func (p GammaGammaParams) ConditionalExpectedSpend(c Customer) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("gamma-gamma expected spend: %w", err)
	}
	if !(p.Q > 1) {
		return 0, fmt.Errorf("gamma-gamma expected spend: q=%v <= 1 means an infinite mean spend", p.Q)
	}
	x, m := c.X, c.MeanValue
	if !(x >= 0) || math.IsInf(x, 0) || math.IsNaN(m) || math.IsInf(m, 0) {
		return 0, fmt.Errorf("gamma-gamma expected spend: customer %q has x=%v, mean value=%v", c.ID, x, m)
	}
	if x == 0 || m < 0 {
		m = 0
	}
	return p.P * (p.V + x*m) / (p.P*x + p.Q - 1), nil
}
