package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGNBDParams are the four BG/NBD parameters: the purchase rate λ is
// Gamma(shape R, rate Alpha) across customers (Alpha in the model's time
// unit), and the dropout probability p is Beta(A, B).
type BGNBDParams struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
}

func (p BGNBDParams) validate() error {
	for _, v := range []float64{p.R, p.Alpha, p.A, p.B} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("bgnbd parameters must be positive and finite, got %+v", p)
		}
	}
	return nil
}

func validateCustomer(c Customer) error {
	switch {
	case !(c.X >= 0) || c.X != math.Trunc(c.X) || math.IsInf(c.X, 0):
		return fmt.Errorf("customer %q: x=%v is not a non-negative whole number", c.ID, c.X)
	case !(c.T >= 0) || math.IsInf(c.T, 0):
		return fmt.Errorf("customer %q: T=%v is not a non-negative time", c.ID, c.T)
	case !(c.TX >= 0) || c.TX > c.T:
		return fmt.Errorf("customer %q: t_x=%v is not within [0, T=%v]", c.ID, c.TX, c.T)
	case c.X > 0 && !(c.TX > 0):
		return fmt.Errorf("customer %q: x=%v repeat purchases but t_x=%v", c.ID, c.X, c.TX)
	}
	return nil
}

// LogLikelihood returns the BG/NBD log-likelihood of the customers' (X, TX, T)
// under p (FHL 2005, section 3), including the constant terms, so the value is
// comparable with published ones.
func (p BGNBDParams) LogLikelihood(customers []Customer) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("bgnbd log-likelihood: %w", err)
	}
	d, err := newBGNBDData(customers)
	if err != nil {
		return 0, fmt.Errorf("bgnbd log-likelihood: %w", err)
	}
	return d.logLik(p, nil), nil
}

// bgnbdData is the sufficient data for the BG/NBD likelihood: customers with
// the same (x, t_x, T) contribute identically, so they are counted once with
// a weight, and the terms that depend on x alone are summed per distinct x.
type bgnbdData struct {
	x, tx, t, w []float64 // distinct (x, t_x, T) and their counts
	xIdx        []int     // index in xs of each row's x
	xs, xw      []float64 // distinct x and their counts
	n           int
}

func newBGNBDData(customers []Customer) (*bgnbdData, error) {
	type key struct{ x, tx, t float64 }
	rows := make(map[key]int)
	xs := make(map[float64]int)
	d := &bgnbdData{n: len(customers)}
	for _, c := range customers {
		if err := validateCustomer(c); err != nil {
			return nil, err
		}
		k := key{c.X, c.TX, c.T}
		if c.X == 0 {
			k.tx = 0
		}
		j, ok := xs[c.X]
		if !ok {
			j = len(d.xs)
			xs[c.X] = j
			d.xs, d.xw = append(d.xs, c.X), append(d.xw, 0)
		}
		d.xw[j]++
		i, ok := rows[k]
		if !ok {
			i = len(d.x)
			rows[k] = i
			d.x, d.tx, d.t, d.w = append(d.x, k.x), append(d.tx, k.tx), append(d.t, k.t), append(d.w, 0)
			d.xIdx = append(d.xIdx, j)
		}
		d.w[i]++
	}
	return d, nil
}

// logLik returns the log-likelihood at p and, when grad is not nil, stores
// its gradient with respect to (r, α, a, b) in grad.
//
// Per customer, with A₃ = -(r+x)·ln(α+T) and, for x > 0,
// A₄ = ln a - ln(b+x-1) - (r+x)·ln(α+tₓ):
//
//	ℓ = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b) + ln(e^A₃ + δ_{x>0} e^A₄)
//
// which is the FHL 2005 likelihood rearranged so that nothing overflows.
func (d *bgnbdData) logLik(p BGNBDParams, grad []float64) float64 {
	r, alpha, a, b := p.R, p.Alpha, p.A, p.B
	lnAlpha := math.Log(alpha)
	lgR, _ := math.Lgamma(r)
	lgAB, _ := math.Lgamma(a + b)
	lgB, _ := math.Lgamma(b)
	var psiR, psiAB, psiB float64
	if grad != nil {
		psiR, psiAB, psiB = mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
		for i := range grad[:4] {
			grad[i] = 0
		}
	}

	ll := 0.0
	lnBX1 := make([]float64, len(d.xs)) // ln(b+x-1) per distinct x > 0
	// Terms in x alone: ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b).
	for j, x := range d.xs {
		w := d.xw[j]
		lgRX, _ := math.Lgamma(r + x)
		lgBX, _ := math.Lgamma(b + x)
		lgABX, _ := math.Lgamma(a + b + x)
		ll += w * (lgRX - lgR + r*lnAlpha + lgAB + lgBX - lgB - lgABX)
		if x > 0 {
			lnBX1[j] = math.Log(b + x - 1)
		}
		if grad != nil {
			psiABX := mathext.Digamma(a + b + x)
			grad[0] += w * (mathext.Digamma(r+x) - psiR + lnAlpha)
			grad[1] += w * r / alpha
			grad[2] += w * (psiAB - psiABX)
			grad[3] += w * (psiAB + mathext.Digamma(b+x) - psiB - psiABX)
		}
	}
	// Terms in (x, tₓ, T): ln(e^A₃ + δ e^A₄), computed as the larger
	// exponent plus log1p(e^-|A₃-A₄|), and the weights w₃, w₄ (summing to
	// one) that spread the derivative over the two branches.
	lnA := math.Log(a)
	for i, x := range d.x {
		w := d.w[i]
		lnT := math.Log(alpha + d.t[i])
		a3 := -(r + x) * lnT
		if x == 0 {
			ll += w * a3
			if grad != nil {
				grad[0] -= w * lnT
				grad[1] -= w * r / (alpha + d.t[i])
			}
			continue
		}
		lnTX := math.Log(alpha + d.tx[i])
		a4 := lnA - lnBX1[d.xIdx[i]] - (r+x)*lnTX
		e := math.Exp(-math.Abs(a3 - a4))
		ll += w * (math.Max(a3, a4) + math.Log1p(e))
		if grad != nil {
			hi, lo := 1/(1+e), e/(1+e)
			w3, w4 := hi, lo
			if a4 > a3 {
				w3, w4 = lo, hi
			}
			grad[0] -= w * (w3*lnT + w4*lnTX)
			grad[1] -= w * (r + x) * (w3/(alpha+d.t[i]) + w4/(alpha+d.tx[i]))
			grad[2] += w * w4 / a
			grad[3] -= w * w4 / (b + x - 1)
		}
	}
	return ll
}

// nearOne is how close a may come to 1 before the (a-1) in the denominators
// of the expectation formulas is sidestepped (see aroundOne).
const nearOne = 1e-6

// aroundOne evaluates f, whose formula has a removable singularity at a = 1,
// as the mean of its values just either side when a is within nearOne of 1.
// Cancellation then costs about 1e-10 relative, and the interpolation error is
// of order nearOne².
func aroundOne(a float64, f func(a float64) (float64, error)) (float64, error) {
	if math.Abs(a-1) >= nearOne {
		return f(a)
	}
	lo, err := f(1 - nearOne)
	if err != nil {
		return 0, err
	}
	hi, err := f(1 + nearOne)
	if err != nil {
		return 0, err
	}
	return (lo + hi) / 2, nil
}

// ExpectedPurchases returns E[X(t)], the expected number of purchases of a
// randomly chosen new customer in a period of length t (FHL 2005, eq. 9):
//
//	E[X(t)] = (a+b-1)/(a-1) · [1 - (α/(α+t))^r · ₂F₁(r, b; a+b-1; t/(α+t))]
func (p BGNBDParams) ExpectedPurchases(t float64) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("bgnbd expected purchases: %w", err)
	}
	if !(t >= 0) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("bgnbd expected purchases: t=%v is not a non-negative time", t)
	}
	v, err := aroundOne(p.A, func(a float64) (float64, error) {
		lf, sign, err := logHyp2F1(p.R, p.B, a+p.B-1, t/(p.Alpha+t))
		if err != nil {
			return 0, err
		}
		bracket := -math.Expm1(p.R*math.Log(p.Alpha/(p.Alpha+t)) + lf)
		if sign < 0 {
			bracket = 1 + math.Exp(p.R*math.Log(p.Alpha/(p.Alpha+t))+lf)
		}
		return (a + p.B - 1) / (a - 1) * bracket, nil
	})
	if err != nil {
		return 0, fmt.Errorf("bgnbd expected purchases: %w", err)
	}
	return v, nil
}

// ProbPurchases returns P(X(t) = n), the probability that a randomly chosen
// new customer makes exactly n purchases in a period of length t
// (FHL 2005, eq. 8).
func (p BGNBDParams) ProbPurchases(n int, t float64) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("bgnbd purchase probability: %w", err)
	}
	if n < 0 || !(t >= 0) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("bgnbd purchase probability: need n >= 0 and t >= 0, got n=%d t=%v", n, t)
	}
	r, alpha, a, b := p.R, p.Alpha, p.A, p.B
	x := float64(n)
	lnPlain := math.Log(alpha / (alpha + t)) // ln(α/(α+t))
	lnRatio := math.Log(t / (alpha + t))     // ln(t/(α+t)); -Inf at t = 0
	// First term: B(a, b+x)/B(a, b) · NBD(x; r, α, t).
	lnNBD := lgammaDiff(r, x) - lgammaPlus1(x) + r*lnPlain
	if x > 0 {
		lnNBD += x * lnRatio
	}
	prob := math.Exp(lnBetaRatio(a, b+x, a, b) + lnNBD)
	if n == 0 {
		return prob, nil
	}
	// Second term: B(a+1, b+x-1)/B(a, b) · [1 - Σ_{j<x} NBD(j; r, α, t)].
	cum := 0.0
	for j := 0; j < n; j++ {
		fj := float64(j)
		lt := lgammaDiff(r, fj) - lgammaPlus1(fj) + r*lnPlain
		if j > 0 {
			lt += fj * lnRatio
		}
		cum += math.Exp(lt)
	}
	prob += math.Exp(lnBetaRatio(a+1, b+x-1, a, b)) * math.Max(0, 1-cum)
	return prob, nil
}

// ConditionalExpectedPurchases returns E[Y(t) | x, tₓ, T], the expected number
// of purchases of customer c in the next t time units (FHL 2005, eq. 10):
//
//	(a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))]
//	/ (1 + δ_{x>0} · a/(b+x-1) · ((α+T)/(α+tₓ))^(r+x))
func (p BGNBDParams) ConditionalExpectedPurchases(c Customer, t float64) (float64, error) {
	return p.conditionalExpected(c, t, p.expectationFactor)
}

// conditionalExpected is ConditionalExpectedPurchases with the factor that
// does not depend on tₓ computed by factor (expectationFactor, or a
// factorMemo's remembered copy: the same value, bit for bit).
func (p BGNBDParams) conditionalExpected(c Customer, t float64, factor func(a float64, c Customer, t float64) (float64, error)) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("bgnbd conditional expected purchases: %w", err)
	}
	if err := validateCustomer(c); err != nil {
		return 0, fmt.Errorf("bgnbd conditional expected purchases: %w", err)
	}
	if !(t >= 0) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("bgnbd conditional expected purchases: t=%v is not a non-negative time", t)
	}
	v, err := aroundOne(p.A, func(a float64) (float64, error) {
		f, err := factor(a, c, t)
		if err != nil {
			return 0, err
		}
		return f * probAlive(p.R, p.Alpha, a, p.B, c), nil
	})
	if err != nil {
		return 0, fmt.Errorf("bgnbd conditional expected purchases: %w", err)
	}
	return v, nil
}

// expectationFactor is the conditional expectation of purchases by t
// divided by P(alive): (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ·
// ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))]. It depends on x and T, not on tₓ:
// customers who share them share it (see factorMemo).
func (p BGNBDParams) expectationFactor(a float64, c Customer, t float64) (float64, error) {
	r, alpha, b, x := p.R, p.Alpha, p.B, c.X
	z := t / (alpha + c.T + t)
	lnShrink := (r + x) * math.Log((alpha+c.T)/(alpha+c.T+t))
	lf, sign, err := logHyp2F1(r+x, b+x, a+b+x-1, z)
	if err != nil {
		return 0, err
	}
	bracket := -math.Expm1(lnShrink + lf)
	if sign < 0 {
		bracket = 1 + math.Exp(lnShrink+lf)
	}
	return (a + b + x - 1) / (a - 1) * bracket, nil
}

// factorMemo remembers expectationFactor for one (x, T) at a time: customers
// scored in (x, T) order compute the series once per (x, T), not once per
// (x, tₓ, T). Not safe for concurrent use; one per worker.
type factorMemo struct {
	p    BGNBDParams
	x, T float64
	vals map[[2]uint64]float64 // by the bits of (a, t)
}

// factor is expectationFactor, remembered for the (a, t) of the current
// (x, T).
func (m *factorMemo) factor(a float64, c Customer, t float64) (float64, error) {
	if m.vals == nil || math.Float64bits(c.X) != math.Float64bits(m.x) || math.Float64bits(c.T) != math.Float64bits(m.T) {
		m.x, m.T, m.vals = c.X, c.T, map[[2]uint64]float64{}
	}
	k := [2]uint64{math.Float64bits(a), math.Float64bits(t)}
	if f, ok := m.vals[k]; ok {
		return f, nil
	}
	f, err := m.p.expectationFactor(a, c, t)
	if err == nil {
		m.vals[k] = f
	}
	return f, err
}

// ProbAlive returns P(alive | x, tₓ, T), the probability that customer c has
// not dropped out by the end of calibration (Fader, Hardie & Lee 2008,
// "Computing P(alive) using the BG/NBD model"):
//
//	1 / (1 + δ_{x>0} · a/(b+x-1) · ((α+T)/(α+tₓ))^(r+x))
func (p BGNBDParams) ProbAlive(c Customer) (float64, error) {
	if err := p.validate(); err != nil {
		return 0, fmt.Errorf("bgnbd probability alive: %w", err)
	}
	if err := validateCustomer(c); err != nil {
		return 0, fmt.Errorf("bgnbd probability alive: %w", err)
	}
	return probAlive(p.R, p.Alpha, p.A, p.B, c), nil
}

func probAlive(r, alpha, a, b float64, c Customer) float64 {
	if c.X == 0 {
		return 1
	}
	lnOdds := math.Log(a) - math.Log(b+c.X-1) + (r+c.X)*math.Log((alpha+c.T)/(alpha+c.TX))
	// 1/(1+e^s) computed without overflow for large s.
	if lnOdds > 0 {
		e := math.Exp(-lnOdds)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(lnOdds))
}

// lgammaDiff returns ln Γ(r+x) - ln Γ(r).
func lgammaDiff(r, x float64) float64 {
	a, _ := math.Lgamma(r + x)
	b, _ := math.Lgamma(r)
	return a - b
}

// lgammaPlus1 returns ln x! for whole x.
func lgammaPlus1(x float64) float64 {
	v, _ := math.Lgamma(x + 1)
	return v
}

// lnBetaRatio returns ln B(a1, b1) - ln B(a2, b2).
func lnBetaRatio(a1, b1, a2, b2 float64) float64 {
	return lnBeta(a1, b1) - lnBeta(a2, b2)
}

func lnBeta(a, b float64) float64 {
	x, _ := math.Lgamma(a)
	y, _ := math.Lgamma(b)
	z, _ := math.Lgamma(a + b)
	return x + y - z
}
