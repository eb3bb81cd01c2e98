package attribution

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// The touch-hazard model: a data-driven model of what each touch adds to
// the chance that a visit converts, fitted by maximum likelihood on the
// paths, in the spirit of survival-based attribution (Zhang, Wei and Ren,
// "Multi-touch attribution in online advertising with survival theory",
// ICDM 2014).
//
// Every touch of a path is an occasion to convert. At the i-th touch the
// chance to convert is
//
//	λ_i = 1 - exp(-s_i),   s_i = u_0 + Σ_c u_c n_c(i)
//
// where n_c(i) counts the touches of channel c up to and including the
// i-th, u_0 ≥ 0 is the baseline and u_c ≥ 0 what one touch of c adds
// (1 - exp(-u_c) is the chance a touch of c converts on its own). A
// converting path converted at its last touch and at none before; a
// non-converting path at none. The log-likelihood is concave in u, so a
// projected Newton ascent finds its maximum. A converting path's
// conversions are then credited to its channels in proportion to what
// each adds to its last touch's chance: λ_L - λ_L(without c). Credits are
// never negative and add up to the conversions (a path that only the
// baseline explains is split equally between its channels).
//
// Unlike the path-presence models (Markov removal, Shapley), it weighs a
// channel by its per-touch effect and its touches as occasions, so a
// channel seen on most paths but adding little (direct visits) is not
// over-credited.

// hazardMaxIter bounds the Newton iterations; the fit stops earlier when
// the log-likelihood no longer improves.
const hazardMaxIter = 200

// HazardResult holds the fitted model: Baseline is u_0, Effect[c] is u_c
// (indexed like Channels), LogLik the maximised log-likelihood.
type HazardResult struct {
	Channels   []string
	Baseline   float64
	Effect     []float64
	LogLik     float64
	Iterations int
	Credits    []Credit
}

// hazardPath is one path reduced to what the likelihood needs: the
// features summed over the touches before the last (conv) or all of them
// (null), and the last touch's features.
type hazardPath struct {
	before, all, last []float64
	conv, null, value float64
	channels          []int // distinct channels of the path
}

// HazardModel is a fitted touch-hazard model: Baseline is u_0, Effect
// u_c by channel (a channel it has not seen adds nothing).
type HazardModel struct {
	Baseline   float64
	Effect     map[string]float64
	LogLik     float64
	Iterations int
}

// Hazard fits the touch-hazard model on paths and credits their
// conversions with it.
func Hazard(ctx context.Context, paths []Path) (HazardResult, error) {
	m, err := FitHazard(ctx, paths)
	if err != nil {
		return HazardResult{}, err
	}
	credits, err := m.Credit(paths)
	if err != nil {
		return HazardResult{}, err
	}
	names, _ := channelIndex(paths)
	res := HazardResult{Channels: names, Baseline: m.Baseline, LogLik: m.LogLik, Iterations: m.Iterations, Credits: credits}
	for _, c := range names {
		res.Effect = append(res.Effect, m.Effect[c])
	}
	return res, nil
}

// hazardFeatures reduces paths to the likelihood's features over the
// channels names (feature 0 is the baseline).
func hazardFeatures(paths []Path, idx map[string]int, k int) []hazardPath {
	hp := make([]hazardPath, len(paths))
	for p, path := range paths {
		h := hazardPath{before: make([]float64, k), all: make([]float64, k), last: make([]float64, k),
			conv: path.Conversions, null: path.Nulls, value: path.Value}
		cur := make([]float64, k)
		cur[0] = 1
		seen := map[int]bool{}
		for i, c := range path.Channels {
			j, ok := idx[c]
			if ok {
				j++
				cur[j]++
				if !seen[j] {
					seen[j] = true
					h.channels = append(h.channels, j)
				}
			}
			for f := range k {
				h.all[f] += cur[f]
				if i < len(path.Channels)-1 {
					h.before[f] += cur[f]
				}
			}
		}
		copy(h.last, cur)
		hp[p] = h
	}
	return hp
}

// FitHazard fits the touch-hazard model on paths by maximum likelihood.
func FitHazard(ctx context.Context, paths []Path) (HazardModel, error) {
	model := ModelTouchHazard
	if err := validate(paths); err != nil {
		return HazardModel{}, fmt.Errorf("%s: %w", model, err)
	}
	if conv, _ := totals(paths); conv == 0 {
		return HazardModel{}, fmt.Errorf("%s: nothing converts", model)
	}
	names, idx := channelIndex(paths)
	k := len(names) + 1
	u, ll, iters, err := fitHazard(ctx, hazardFeatures(paths, idx, k), k)
	if err != nil {
		return HazardModel{}, fmt.Errorf("%s: %w", model, err)
	}
	m := HazardModel{Baseline: u[0], Effect: map[string]float64{}, LogLik: ll, Iterations: iters}
	for i, c := range names {
		m.Effect[c] = u[i+1]
	}
	return m, nil
}

// Credit credits each converting path's conversions and value to its
// channels in proportion to what each adds to its last touch's chance to
// convert (split equally when none adds anything). The model may have
// been fitted on other paths (a longer period): channels it has not seen
// add nothing.
func (m HazardModel) Credit(paths []Path) ([]Credit, error) {
	model := ModelTouchHazard
	if err := validate(paths); err != nil {
		return nil, fmt.Errorf("%s: %w", model, err)
	}
	names, idx := channelIndex(paths)
	k := len(names) + 1
	u := make([]float64, k)
	u[0] = m.Baseline
	for i, c := range names {
		u[i+1] = m.Effect[c]
	}
	out := make([]Credit, len(names))
	for i, c := range names {
		out[i] = Credit{Model: model, Channel: c}
	}
	delta := make([]float64, k)
	for _, h := range hazardFeatures(paths, idx, k) {
		if h.conv == 0 {
			continue
		}
		s := dot(u, h.last)
		lambda := -math.Expm1(-s)
		var sum float64
		for _, j := range h.channels {
			// the last touch's chance without channel j's touches
			delta[j] = lambda + math.Expm1(-(s - u[j]*h.last[j]))
			sum += delta[j]
		}
		for _, j := range h.channels {
			share := 1 / float64(len(h.channels))
			if sum > 0 {
				share = delta[j] / sum
			}
			out[j-1].Conversions += share * h.conv
			out[j-1].Value += share * h.value
		}
	}
	return out, nil
}

// fitHazard maximises the log-likelihood over u ≥ 0 by projected Newton
// steps with a backtracking line search. The baseline is kept above a
// floor so that a converting path never has a zero chance.
func fitHazard(ctx context.Context, hp []hazardPath, k int) (u []float64, ll float64, iters int, err error) {
	const floor = 1e-12
	// Start: the baseline at the overall conversion rate per touch, no effects.
	var conv, touches float64
	for _, h := range hp {
		conv += h.conv
		touches += (h.conv + h.null) * (h.all[0])
	}
	u = make([]float64, k)
	u[0] = -math.Log1p(-math.Min(0.5, conv/math.Max(touches, 1)))
	for j := 1; j < k; j++ {
		u[j] = u[0] / 10
	}
	ll = hazardLogLik(hp, u)
	g := make([]float64, k)
	H := mat.NewSymDense(k, nil)
	for iters = 1; iters <= hazardMaxIter; iters++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, iters, err
		}
		hazardDerivatives(hp, u, g, H)
		// Free variables: those above the bound, or at it with the gradient pointing inside.
		var free []int
		for j := range k {
			if u[j] > floor || g[j] > 0 {
				free = append(free, j)
			}
		}
		if len(free) == 0 {
			break
		}
		// Newton direction on the free variables: (-H) d = g, with a small
		// ridge so that a channel the data cannot tell apart stays solvable.
		n := len(free)
		neg := mat.NewSymDense(n, nil)
		rhs := mat.NewVecDense(n, nil)
		for a, ja := range free {
			rhs.SetVec(a, g[ja])
			for b := a; b < n; b++ {
				neg.SetSym(a, b, -H.At(ja, free[b]))
			}
			neg.SetSym(a, a, neg.At(a, a)+1e-9*(1+math.Abs(neg.At(a, a))))
		}
		var chol mat.Cholesky
		d := mat.NewVecDense(n, nil)
		if chol.Factorize(neg) {
			if err := chol.SolveVecTo(d, rhs); err != nil {
				d.CopyVec(rhs)
			}
		} else {
			d.CopyVec(rhs) // not positive definite: a gradient step
		}
		// Backtracking along the projected path.
		step, improved := 1.0, false
		next := make([]float64, k)
		for range 60 {
			copy(next, u)
			for a, j := range free {
				next[j] = math.Max(floor, u[j]+step*d.AtVec(a))
			}
			if l := hazardLogLik(hp, next); l > ll {
				improved = l-ll > 1e-10*math.Max(1, math.Abs(ll))
				u, next = next, u
				ll = l
				break
			}
			step /= 2
		}
		if !improved {
			break
		}
	}
	return u, ll, iters, nil
}

// hazardLogLik is the log-likelihood of u.
func hazardLogLik(hp []hazardPath, u []float64) float64 {
	var ll float64
	for _, h := range hp {
		if h.null > 0 {
			ll -= h.null * dot(u, h.all)
		}
		if h.conv > 0 {
			s := dot(u, h.last)
			ll += h.conv * (-dot(u, h.before) + math.Log(-math.Expm1(-s)))
		}
	}
	return ll
}

// hazardDerivatives writes the gradient and Hessian of the log-likelihood at u.
func hazardDerivatives(hp []hazardPath, u, g []float64, H *mat.SymDense) {
	k := len(u)
	for j := range g {
		g[j] = 0
	}
	for a := range k {
		for b := a; b < k; b++ {
			H.SetSym(a, b, 0)
		}
	}
	for _, h := range hp {
		for j := range k {
			g[j] -= h.null*h.all[j] + h.conv*h.before[j]
		}
		if h.conv == 0 {
			continue
		}
		s := dot(u, h.last)
		em := math.Expm1(s) // e^s - 1
		first := 1 / em     // d/ds log(1 - e^-s)
		second := -(em + 1) / (em * em)
		for a := range k {
			if h.last[a] == 0 {
				continue
			}
			g[a] += h.conv * first * h.last[a]
			for b := a; b < k; b++ {
				if h.last[b] != 0 {
					H.SetSym(a, b, H.At(a, b)+h.conv*second*h.last[a]*h.last[b])
				}
			}
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
