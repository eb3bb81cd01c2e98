package clv

import (
	"fmt"
	"math"
)

const (
	// hyp2f1MaxTerms bounds the series; z = t/(α+T+t) only comes this close
	// to 1 for horizons thousands of times longer than α+T.
	hyp2f1MaxTerms = 2_000_000
	// hyp2f1RelTol is the bound on the neglected tail relative to the sum.
	hyp2f1RelTol = 1e-15
	// hyp2f1Rescale keeps terms and partial sums finite when 2F1 is huge
	// (frequent buyers give parameters in the hundreds).
	hyp2f1Rescale = 1e200
)

// logHyp2F1 returns log|₂F₁(a, b; c; z)| and its sign for a, b > 0,
// 0 ≤ z < 1 and c not a non-positive integer, by summing the Gauss series
// with running rescaling.
//
// The series is used rather than a general-purpose routine because the
// BG/NBD formulas need it exactly in this region, often with parameters far
// larger than 1 (r+x, b+x), where the result overflows float64 unless kept in
// log space. Past n > -c every term has the same sign; the term ratio is
// ρₙ = z·(a+n)(b+n)/((c+n)(n+1)) → z, and the loop stops once ρₙ < 1, ρ no
// longer increases (or is below its limit z) and the geometric bound on the
// tail, |tₙ₊₁|/(1-q) with q = max(ρₙ, z), is below hyp2f1RelTol·|sum|.
func logHyp2F1(a, b, c, z float64) (logAbs float64, sign float64, err error) {
	switch {
	case !(a > 0) || !(b > 0):
		return 0, 0, fmt.Errorf("hypergeometric 2F1: need a, b > 0, got a=%v b=%v", a, b)
	case !(z >= 0 && z < 1):
		return 0, 0, fmt.Errorf("hypergeometric 2F1: need 0 <= z < 1, got %v", z)
	case c <= 0 && c == math.Trunc(c):
		return 0, 0, fmt.Errorf("hypergeometric 2F1: c=%v is a pole", c)
	case math.IsNaN(c) || math.IsInf(c, 0) || math.IsInf(a, 0) || math.IsInf(b, 0):
		return 0, 0, fmt.Errorf("hypergeometric 2F1: parameters must be finite")
	}
	if z == 0 {
		return 0, 1, nil
	}
	sum, term, logScale := 1.0, 1.0, 0.0
	prevRatio := math.Inf(1)
	for n := 0; n < hyp2f1MaxTerms; n++ {
		fn := float64(n)
		ratio := z * (a + fn) * (b + fn) / ((c + fn) * (fn + 1))
		term *= ratio
		sum += term
		if math.Abs(term) > hyp2f1Rescale || math.Abs(sum) > hyp2f1Rescale {
			term /= hyp2f1Rescale
			sum /= hyp2f1Rescale
			logScale += math.Log(hyp2f1Rescale)
		}
		absRatio := math.Abs(ratio)
		if fn+1 > -c && absRatio < 1 && (absRatio <= prevRatio || absRatio <= z) {
			q := math.Max(absRatio, z)
			if math.Abs(term)*q/(1-q) <= hyp2f1RelTol*math.Abs(sum) {
				if sum == 0 {
					return math.Inf(-1), 0, nil
				}
				return logScale + math.Log(math.Abs(sum)), math.Copysign(1, sum), nil
			}
		}
		prevRatio = absRatio
	}
	return 0, 0, fmt.Errorf("hypergeometric 2F1(%v, %v; %v; %v): series did not converge in %d terms", a, b, c, z, hyp2f1MaxTerms)
}
