package clv

import (
	"context"
	"fmt"
)

// BGNBDFit is a BG/NBD model fitted by maximum likelihood.
type BGNBDFit struct {
	Params BGNBDParams `json:"params"`
	// SE holds the standard errors of Params (delta method from the inverse
	// observed information); nil when the information matrix at the optimum
	// is not positive definite, i.e. the data do not pin the parameters down.
	SE            *BGNBDParams `json:"se,omitempty"`
	LogLikelihood float64      `json:"log_likelihood"`
	// N is the number of customers the model was fitted on.
	N int `json:"n"`
	// Iterations is the number of L-BFGS iterations of the best start.
	Iterations int `json:"iterations"`
}

// FitBGNBD fits the BG/NBD model to customers by maximum likelihood. At least
// one customer must have a repeat purchase, otherwise the dropout process is
// not identified.
//
// Several starting points are tried, all with r = 1 or 0.5 and α set so that
// r/α, the mean purchase rate, matches Σx/ΣT (so the start is on the scale of
// the data whatever the time unit), and with dropout priors E[p] = 1/2 or 1/4.
// The best optimum is kept.
func FitBGNBD(ctx context.Context, customers []Customer) (BGNBDFit, error) {
	d, err := newBGNBDData(customers)
	if err != nil {
		return BGNBDFit{}, fmt.Errorf("fit bgnbd: %w", err)
	}
	var sumX, sumT float64
	for _, c := range customers {
		sumX += c.X
		sumT += c.T
	}
	if sumX == 0 {
		return BGNBDFit{}, fmt.Errorf("fit bgnbd: no customer among %d has a repeat purchase", len(customers))
	}
	if sumT == 0 {
		return BGNBDFit{}, fmt.Errorf("fit bgnbd: every customer has T = 0")
	}
	rate := sumX / sumT
	starts := [][]float64{
		{1, 1 / rate, 1, 1},
		{0.5, 0.5 / rate, 1, 3},
	}
	f := func(params, grad []float64) float64 {
		return d.logLik(BGNBDParams{R: params[0], Alpha: params[1], A: params[2], B: params[3]}, grad)
	}
	res, err := maximizeLogLik(ctx, f, starts, d.n)
	if err != nil {
		return BGNBDFit{}, fmt.Errorf("fit bgnbd: %w", err)
	}
	fit := BGNBDFit{
		Params:        BGNBDParams{R: res.params[0], Alpha: res.params[1], A: res.params[2], B: res.params[3]},
		LogLikelihood: res.logLik,
		N:             d.n,
		Iterations:    res.iterations,
	}
	if res.se != nil {
		fit.SE = &BGNBDParams{R: res.se[0], Alpha: res.se[1], A: res.se[2], B: res.se[3]}
	}
	return fit, nil
}
