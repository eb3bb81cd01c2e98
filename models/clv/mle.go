package clv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// logLikFunc returns a log-likelihood at natural (positive) parameters and,
// when grad is not nil, stores its gradient with respect to them in grad.
type logLikFunc func(params, grad []float64) float64

// mleResult is a maximum-likelihood estimate on the natural scale.
type mleResult struct {
	params []float64
	// se are delta-method standard errors; nil when the observed information
	// at the optimum is not positive definite (a flat or boundary optimum).
	se         []float64
	logLik     float64
	iterations int
}

const (
	// maxLogParam bounds |ln θ|: beyond e^±40 a parameter has run off to a
	// boundary and the model is not identified by the data.
	maxLogParam = 40
	// hessianStep is the central-difference step on ln θ, i.e. a relative
	// step of 1e-4 on θ: large against the ~1e-13 relative rounding of the
	// analytic gradient, small against the curvature scale.
	hessianStep = 1e-4
)

// ErrNotConverged is returned when no start of a maximum-likelihood fit
// reached an accepted optimum: the data do not identify the model well
// (typically too few customers), not a fault of the caller.
var ErrNotConverged = errors.New("no start converged")

// maximizeLogLik maximises f from each start (natural-scale parameters) with
// L-BFGS on ln θ and keeps the best optimum. n, the number of observations,
// scales the stopping rules because the log-likelihood and its gradient are
// sums of n terms:
//
//   - L-BFGS stops once the largest log-scale gradient component is below
//     1e-9·n: far above float64 rounding of an n-term sum, and it moves the
//     estimate by about 1e-9/(information per observation), nothing;
//   - a start is accepted only if its final gradient is below 1e-3·√n, which
//     moves the estimate by a small fraction of a standard error (those
//     shrink like 1/√n); line searches that stall before the first bound are
//     judged by this second one.
func maximizeLogLik(ctx context.Context, f logLikFunc, starts [][]float64, n int) (mleResult, error) {
	nf := math.Max(1, float64(n))
	gradTarget, gradAccept := 1e-9*nf, 1e-3*math.Sqrt(nf)
	best := mleResult{logLik: math.Inf(-1)}
	var errs []error
	for _, start := range starts {
		if err := ctx.Err(); err != nil {
			return mleResult{}, err
		}
		theta, ll, iters, err := minimizeFrom(ctx, f, start, gradTarget)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return mleResult{}, ctxErr
			}
			errs = append(errs, fmt.Errorf("start %v: %w", start, err))
			continue
		}
		if g := gradNormLog(f, theta); g > gradAccept {
			errs = append(errs, fmt.Errorf("start %v: stopped with gradient %.3g above %.3g", start, g, gradAccept))
			continue
		}
		if ll > best.logLik {
			best = mleResult{params: expAll(theta), logLik: ll, iterations: iters}
		}
	}
	if best.params == nil {
		return mleResult{}, fmt.Errorf("%w: %w", ErrNotConverged, errors.Join(errs...))
	}
	best.se = standardErrors(f, best.params)
	return best, nil
}

// minimizeFrom runs L-BFGS on -f(e^θ) from start and returns θ at the end.
// gradTol is the gradient threshold on the log scale; line-search failures
// near the optimum (where the function stops changing in float64) are not
// errors, the caller judges the final gradient.
func minimizeFrom(ctx context.Context, f logLikFunc, start []float64, gradTol float64) (theta []float64, ll float64, iters int, err error) {
	k := len(start)
	theta0 := make([]float64, k)
	for i, v := range start {
		if !(v > 0) {
			return nil, 0, 0, fmt.Errorf("start value %v is not positive", v)
		}
		theta0[i] = math.Log(v)
	}
	params := make([]float64, k)
	grad := make([]float64, k)
	objective := func(th, g []float64) float64 {
		for i, t := range th {
			if math.Abs(t) > maxLogParam || math.IsNaN(t) {
				if g != nil {
					for j := range g {
						g[j] = 0
					}
				}
				return math.Inf(1)
			}
			params[i] = math.Exp(t)
		}
		var gp []float64
		if g != nil {
			gp = grad
		}
		v := f(params, gp)
		if math.IsNaN(v) {
			v = math.Inf(-1)
		}
		if g != nil {
			for i := range g {
				g[i] = -grad[i] * params[i]
			}
		}
		return -v
	}
	// gonum asks for the value and the gradient at the same point in two
	// calls; the analytic gradient costs little on top of the value, so both
	// are computed once and the last point is remembered.
	lastX, lastG := make([]float64, k), make([]float64, k)
	lastF, have := 0.0, false
	eval := func(th []float64) {
		if have && slices.Equal(th, lastX) {
			return
		}
		lastF = objective(th, lastG)
		copy(lastX, th)
		have = true
	}
	problem := optimize.Problem{
		Func: func(th []float64) float64 { eval(th); return lastF },
		Grad: func(g, th []float64) { eval(th); copy(g, lastG) },
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: gradTol,
		MajorIterations:   5000,
		Converger: &optimize.FunctionConverge{
			Absolute:   1e-13,
			Relative:   1e-15,
			Iterations: 50,
		},
	}
	res, err := optimize.Minimize(problem, theta0, settings, &optimize.LBFGS{})
	if res == nil {
		return nil, 0, 0, fmt.Errorf("optimize: %w", err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, 0, 0, ctxErr
	}
	if res.Status == optimize.IterationLimit {
		return nil, 0, 0, fmt.Errorf("no convergence in %d iterations", settings.MajorIterations)
	}
	if math.IsInf(res.F, 0) || math.IsNaN(res.F) {
		return nil, 0, 0, fmt.Errorf("log-likelihood is not finite at the end (parameters %v)", expAll(res.X))
	}
	return res.X, -res.F, res.Stats.MajorIterations, nil
}

// gradNormLog returns the largest absolute component of the gradient of
// f(e^θ) with respect to θ.
func gradNormLog(f logLikFunc, theta []float64) float64 {
	params := expAll(theta)
	grad := make([]float64, len(theta))
	f(params, grad)
	norm := 0.0
	for i := range grad {
		norm = math.Max(norm, math.Abs(grad[i]*params[i]))
	}
	return norm
}

// standardErrors returns delta-method standard errors of params: the observed
// information on the log scale is minus the numerical Hessian (central
// differences of the analytic gradient), its inverse is the covariance of
// ln θ, and SE(θᵢ) = θᵢ·SE(ln θᵢ). It returns nil when the information is
// not positive definite.
func standardErrors(f logLikFunc, params []float64) []float64 {
	k := len(params)
	theta := make([]float64, k)
	for i, p := range params {
		theta[i] = math.Log(p)
	}
	gradLog := func(th []float64) []float64 {
		p := expAll(th)
		g := make([]float64, k)
		f(p, g)
		for i := range g {
			g[i] *= p[i]
		}
		return g
	}
	info := mat.NewSymDense(k, nil)
	cols := make([][]float64, k)
	for j := 0; j < k; j++ {
		up := append([]float64(nil), theta...)
		down := append([]float64(nil), theta...)
		up[j] += hessianStep
		down[j] -= hessianStep
		gu, gd := gradLog(up), gradLog(down)
		cols[j] = make([]float64, k)
		for i := 0; i < k; i++ {
			cols[j][i] = (gu[i] - gd[i]) / (2 * hessianStep)
		}
	}
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			v := -(cols[j][i] + cols[i][j]) / 2
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil
			}
			info.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(info); !ok {
		return nil
	}
	var cov mat.SymDense
	if err := chol.InverseTo(&cov); err != nil {
		return nil
	}
	se := make([]float64, k)
	for i := range se {
		v := cov.At(i, i)
		if !(v >= 0) {
			return nil
		}
		se[i] = params[i] * math.Sqrt(v)
	}
	return se
}

func expAll(theta []float64) []float64 {
	out := make([]float64, len(theta))
	for i, t := range theta {
		out[i] = math.Exp(t)
	}
	return out
}
