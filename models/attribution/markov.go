package attribution

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// Markov chain removal effect, after the ChannelAttribution package
// (Altomare & Loris). Conventions, stated because implementations differ:
//   - A state of order k is the last k channels of the path so far; the first
//     k-1 states of a path are shorter (the last 1, 2, ... channels).
//     ChannelAttribution starts directly at the first k-channel window. The
//     results are the same: a prefix state is entered only from the one
//     before it, so its probabilities multiply out to the direct start ->
//     window probability, and it contains every channel its window does.
//   - Repeated channels are kept: A > A gives the order-1 self-loop A -> A.
//     ChannelAttribution's markov_model drops repeated consecutive states
//     instead (R/src/ChannelAttribution.cpp, DavideAltomare/ChannelAttribution);
//     absorption probabilities do not change either way, because a self-loop
//     only rescales a state's other outgoing probabilities, which is exactly
//     how absorb solves it.
//   - Each path adds conversions+nulls to every transition along it; its last
//     state moves to the conversion state with weight conversions and to the
//     null state with weight nulls.
//   - Removing channel c sends every transition into a state containing c to
//     the null state.
//   - Value follows ChannelAttribution's value removal effects: a conversion
//     from state s is worth the mean value per conversion of the paths ending
//     in s, the removal effect on value is 1 - E[value | c removed]/E[value],
//     and credited value = normalised value removal effects x total value.
//     ChannelAttribution estimates these by simulation; here they are solved.
//
// Absorption probabilities are solved exactly up to a 1e-13 convergence
// tolerance by Gauss-Seidel iteration on the sparse chain, not by simulation.

// MaxMarkovOrder is the highest supported chain order.
const MaxMarkovOrder = 3

// markovTol is the convergence tolerance of the absorption iteration.
const markovTol = 1e-13

// markovMaxSweeps bounds the iteration; a chain that needs more is reported.
const markovMaxSweeps = 1_000_000

// MarkovResult holds a Markov model's conversion probability, removal effects
// on conversions and on value (indexed like Channels) and credits. Value
// removal effects are nil when the paths carry no value.
type MarkovResult struct {
	Order               int
	ConversionProb      float64
	Channels            []string
	RemovalEffects      []float64
	ValueRemovalEffects []float64
	Credits             []Credit
}

// stateKey identifies a state: up to MaxMarkovOrder channel indices.
type stateKey struct {
	n int
	c [MaxMarkovOrder]int
}

// edge is one sparse transition.
type edge struct {
	to int
	p  float64
}

// chain is the estimated transient part of the Markov chain. State 0 is start.
type chain struct {
	keys  []stateKey
	edges [][]edge
	pConv []float64
	// vConv is P(convert next) times the mean value per conversion from s.
	vConv []float64
}

// buildChain estimates transition probabilities from path counts.
func buildChain(paths []Path, idx map[string]int, order int) chain {
	ids := map[stateKey]int{{n: 0}: 0}
	keys := []stateKey{{n: 0}}
	counts := []map[int]float64{{}}
	toConv := []float64{0}
	toNull := []float64{0}
	toValue := []float64{0}
	state := func(k stateKey) int {
		if id, ok := ids[k]; ok {
			return id
		}
		id := len(keys)
		ids[k] = id
		keys = append(keys, k)
		counts = append(counts, map[int]float64{})
		toConv = append(toConv, 0)
		toNull = append(toNull, 0)
		toValue = append(toValue, 0)
		return id
	}
	for _, p := range paths {
		w := p.Conversions + p.Nulls
		if w == 0 {
			continue
		}
		prev := 0
		for i := range p.Channels {
			var k stateKey
			lo := max(0, i+1-order)
			for j := lo; j <= i; j++ {
				k.c[k.n] = idx[p.Channels[j]]
				k.n++
			}
			s := state(k)
			counts[prev][s] += w
			prev = s
		}
		toConv[prev] += p.Conversions
		toNull[prev] += p.Nulls
		toValue[prev] += p.Value
	}
	ch := chain{keys: keys, edges: make([][]edge, len(keys)), pConv: make([]float64, len(keys)),
		vConv: make([]float64, len(keys))}
	for s := range keys {
		total := toConv[s] + toNull[s]
		for _, c := range counts[s] {
			total += c
		}
		if total == 0 {
			continue
		}
		ch.pConv[s] = toConv[s] / total
		ch.vConv[s] = toValue[s] / total
		// Sorted targets keep the floating-point sums deterministic.
		targets := make([]int, 0, len(counts[s]))
		for t := range counts[s] {
			targets = append(targets, t)
		}
		sort.Ints(targets)
		for _, t := range targets {
			ch.edges[s] = append(ch.edges[s], edge{to: t, p: counts[s][t] / total})
		}
	}
	return ch
}

// contains reports whether state key k includes channel c.
func (k stateKey) contains(c int) bool {
	for i := 0; i < k.n; i++ {
		if k.c[i] == c {
			return true
		}
	}
	return false
}

// absorb returns the expected reward collected on absorption from start, with
// channel removed (-1 for none); reward pConv gives P(conversion), vConv the
// expected value. It runs Gauss-Seidel sweeps in reverse state-creation order (later states sit nearer
// absorption) with self-loops solved in place.
func (ch chain) absorb(ctx context.Context, reward []float64, removed int) (float64, error) {
	n := len(ch.keys)
	dead := make([]bool, n)
	if removed >= 0 {
		for s, k := range ch.keys {
			dead[s] = k.contains(removed)
		}
	}
	x := make([]float64, n)
	for sweep := 0; sweep < markovMaxSweeps; sweep++ {
		if sweep%64 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		var delta float64
		for s := n - 1; s >= 0; s-- {
			if dead[s] {
				continue
			}
			v, self := reward[s], 0.0
			for _, e := range ch.edges[s] {
				switch {
				case dead[e.to]:
				case e.to == s:
					self = e.p
				default:
					v += e.p * x[e.to]
				}
			}
			v /= 1 - self
			delta = math.Max(delta, math.Abs(v-x[s]))
			x[s] = v
		}
		if delta < markovTol {
			return x[0], nil
		}
	}
	return 0, fmt.Errorf("absorption did not converge in %d sweeps", markovMaxSweeps)
}

// Markov computes the removal-effect attribution of the given order (1 to 3).
func Markov(ctx context.Context, paths []Path, order int) (MarkovResult, error) {
	model := fmt.Sprintf("%s%d", ModelMarkovPrefix, order)
	if order < 1 || order > MaxMarkovOrder {
		return MarkovResult{}, fmt.Errorf("%s: order must be 1 to %d", model, MaxMarkovOrder)
	}
	if err := validate(paths); err != nil {
		return MarkovResult{}, fmt.Errorf("%s: %w", model, err)
	}
	names, idx := channelIndex(paths)
	ch := buildChain(paths, idx, order)
	conv, value := totals(paths)
	res := MarkovResult{Order: order, Channels: names}
	var convShares, valueShares []float64
	var err error
	res.RemovalEffects, convShares, res.ConversionProb, err = removalEffects(ctx, ch, ch.pConv, len(names))
	if err != nil {
		return MarkovResult{}, fmt.Errorf("%s: conversions: %w", model, err)
	}
	valueShares = make([]float64, len(names))
	if value > 0 {
		res.ValueRemovalEffects, valueShares, _, err = removalEffects(ctx, ch, ch.vConv, len(names))
		if err != nil {
			return MarkovResult{}, fmt.Errorf("%s: value: %w", model, err)
		}
	}
	res.Credits = make([]Credit, len(names))
	for c, name := range names {
		res.Credits[c] = Credit{Model: model, Channel: name,
			Conversions: convShares[c] * conv, Value: valueShares[c] * value}
	}
	return res, nil
}

// removalEffects returns each channel's removal effect on the expected reward,
// the effects normalised to shares, and the unremoved expected reward.
func removalEffects(ctx context.Context, ch chain, reward []float64, n int) (effects, shares []float64, base float64, err error) {
	base, err = ch.absorb(ctx, reward, -1)
	if err != nil {
		return nil, nil, 0, err
	}
	if base == 0 {
		return nil, nil, 0, fmt.Errorf("nothing converts, removal effects undefined")
	}
	effects = make([]float64, n)
	var sum float64
	for c := range effects {
		p, err := ch.absorb(ctx, reward, c)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("remove channel %d: %w", c, err)
		}
		effects[c] = 1 - p/base
		sum += effects[c]
	}
	shares = make([]float64, n)
	for c, re := range effects {
		shares[c] = re / sum
	}
	return effects, shares, base, nil
}
