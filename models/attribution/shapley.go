package attribution

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Shapley attribution over channels. A path counts towards a coalition S when
// every channel it touches is in S; order and repeats do not matter.

// DefaultExactMaxChannels is the channel count up to which the non-additive
// Shapley values are enumerated exactly (2^n subsets); past it they are sampled.
const DefaultExactMaxChannels = 20

// hardExactMaxChannels caps exact enumeration: 2^26 subsets already need 1 GiB.
const hardExactMaxChannels = 26

// DefaultShapleySamples is the number of Monte-Carlo permutations used past the
// exact threshold.
const DefaultShapleySamples = 2000

// ShapleyOptions configures ShapleyConversionRate. Zero fields take defaults.
type ShapleyOptions struct {
	ExactMaxChannels int
	Samples          int
	Seed             uint64
}

// ShapleyResult holds Shapley attribution per channel (indexed like Channels).
// Phi are the raw Shapley values of the characteristic function; Credits
// scale them so credited conversions sum to total conversions. StdErr, in
// credited conversions, is set only when the values were sampled.
type ShapleyResult struct {
	Channels []string
	Phi      []float64
	StdErr   []float64
	Exact    bool
	Samples  int
	Credits  []Credit
}

// channelSet is the aggregate of all paths touching exactly one channel set.
type channelSet struct {
	members []int
	mask    uint64
	conv    float64
	total   float64
	value   float64
}

// channelSets groups paths by their set of distinct channels. The mask is
// meaningful only for at most 64 channels.
func channelSets(paths []Path, idx map[string]int) []channelSet {
	pos := map[string]int{}
	var sets []channelSet
	var key []byte
	for _, p := range paths {
		var members []int
		for _, c := range p.Channels {
			i := idx[c]
			// Paths are short, so a linear scan beats a per-path map.
			dup := false
			for _, m := range members {
				dup = dup || m == i
			}
			if !dup {
				members = append(members, i)
			}
		}
		sortInts(members)
		// The key packs each member into 4 bytes, enough for any channel count.
		key = key[:0]
		for _, m := range members {
			key = append(key, byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
		}
		k, ok := pos[string(key)]
		if !ok {
			k = len(sets)
			pos[string(key)] = k
			var mask uint64
			for _, m := range members {
				if m < 64 {
					mask |= 1 << m
				}
			}
			sets = append(sets, channelSet{members: members, mask: mask})
		}
		sets[k].conv += p.Conversions
		sets[k].total += p.Conversions + p.Nulls
		sets[k].value += p.Value
	}
	return sets
}

// sortInts is an insertion sort; member lists are path-length short.
func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// ShapleyAdditive uses the additive characteristic function of Zhao et al.
// (2018), v(S) = sum over channel sets T ⊆ S of the conversions of paths whose
// channel set is exactly T. Its Shapley value has the closed form
// phi_c = sum over T containing c of conv(T)/|T|, and value likewise.
func ShapleyAdditive(paths []Path) ([]Credit, error) {
	if err := validate(paths); err != nil {
		return nil, fmt.Errorf("%s: %w", ModelShapleyAdd, err)
	}
	names, idx := channelIndex(paths)
	out := make([]Credit, len(names))
	for i, c := range names {
		out[i] = Credit{Model: ModelShapleyAdd, Channel: c}
	}
	for _, s := range channelSets(paths, idx) {
		k := float64(len(s.members))
		for _, m := range s.members {
			out[m].Conversions += s.conv / k
			out[m].Value += s.value / k
		}
	}
	return out, nil
}

// ShapleyConversionRate uses the non-additive characteristic function
// v(S) = conversions/(conversions+nulls) over paths whose channels all lie in S
// (0 when there are none). Shapley values sum to v(all channels) and are
// scaled by total conversions / v(all) so credits sum to total conversions;
// value is credited with the same shares of total value. Credits may be
// negative for channels whose presence lowers the conversion rate. Exact up to
// opts.ExactMaxChannels channels, seeded permutation sampling past it.
func ShapleyConversionRate(ctx context.Context, paths []Path, opts ShapleyOptions) (ShapleyResult, error) {
	model := ModelShapleyConversionRate
	if opts.ExactMaxChannels == 0 {
		opts.ExactMaxChannels = DefaultExactMaxChannels
	}
	if opts.Samples == 0 {
		opts.Samples = DefaultShapleySamples
	}
	if opts.ExactMaxChannels < 0 || opts.ExactMaxChannels > hardExactMaxChannels || opts.Samples < 2 {
		return ShapleyResult{}, fmt.Errorf("%s: exact threshold must be 0 to %d and samples at least 2, got %+v",
			model, hardExactMaxChannels, opts)
	}
	if err := validate(paths); err != nil {
		return ShapleyResult{}, fmt.Errorf("%s: %w", model, err)
	}
	names, idx := channelIndex(paths)
	sets := channelSets(paths, idx)
	var res ShapleyResult
	var err error
	if len(names) <= opts.ExactMaxChannels {
		res, err = shapleyExact(ctx, len(names), sets)
	} else {
		res, err = shapleySampled(ctx, len(names), sets, opts.Samples, opts.Seed)
	}
	if err != nil {
		return ShapleyResult{}, fmt.Errorf("%s: %w", model, err)
	}
	res.Channels = names
	var vAll, conv, value float64
	for _, phi := range res.Phi {
		vAll += phi
	}
	if vAll == 0 {
		return ShapleyResult{}, fmt.Errorf("%s: no conversions, shares undefined", model)
	}
	conv, value = totals(paths)
	shares := make([]float64, len(names))
	for i, phi := range res.Phi {
		shares[i] = phi / vAll
	}
	for i := range res.StdErr {
		res.StdErr[i] *= conv / vAll
	}
	res.Credits = creditsFromShares(model, names, shares, conv, value)
	return res, nil
}

// shapleyExact enumerates all 2^n coalitions: a zeta (subset-sum) transform
// gives every v(S) in O(n 2^n), then each channel's weighted marginals.
func shapleyExact(ctx context.Context, n int, sets []channelSet) (ShapleyResult, error) {
	size := 1 << n
	gc := make([]float64, size)
	gt := make([]float64, size)
	for _, s := range sets {
		gc[s.mask] += s.conv
		gt[s.mask] += s.total
	}
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return ShapleyResult{}, err
		}
		bit := 1 << i
		for S := 0; S < size; S++ {
			if S&bit != 0 {
				gc[S] += gc[S^bit]
				gt[S] += gt[S^bit]
			}
		}
	}
	v := gc // reuse: v(S) overwrites the conversion sums
	for S := range v {
		if gt[S] > 0 {
			v[S] = gc[S] / gt[S]
		} else {
			v[S] = 0
		}
	}
	// w[s] = s!(n-1-s)!/n! = 1/(n*C(n-1,s)), the weight of a coalition of size s.
	w := make([]float64, n)
	binom := 1.0
	for s := 0; s < n; s++ {
		w[s] = 1 / (float64(n) * binom)
		binom = binom * float64(n-1-s) / float64(s+1)
	}
	phi := make([]float64, n)
	for S := 0; S < size; S++ {
		if S&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return ShapleyResult{}, err
			}
		}
		ws := w[min(popcount(S), n-1)]
		for i := 0; i < n; i++ {
			bit := 1 << i
			if S&bit == 0 {
				phi[i] += ws * (v[S|bit] - v[S])
			}
		}
	}
	return ShapleyResult{Phi: phi, Exact: true}, nil
}

// popcount counts set bits.
func popcount(x int) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

// shapleySampled estimates Shapley values from random permutations. In a
// permutation a channel set joins the coalition when its last member arrives,
// so one pass over the sets gives every prefix's v(S) and the marginals.
func shapleySampled(ctx context.Context, n int, sets []channelSet, samples int, seed uint64) (ShapleyResult, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	perm := make([]int, n)
	pos := make([]int, n)
	dc := make([]float64, n)
	dt := make([]float64, n)
	sum := make([]float64, n)
	sumSq := make([]float64, n)
	for i := range perm {
		perm[i] = i
	}
	for it := 0; it < samples; it++ {
		if it%64 == 0 {
			if err := ctx.Err(); err != nil {
				return ShapleyResult{}, err
			}
		}
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for j, c := range perm {
			pos[c] = j
			dc[j], dt[j] = 0, 0
		}
		for _, s := range sets {
			entry := 0
			for _, m := range s.members {
				entry = max(entry, pos[m])
			}
			dc[entry] += s.conv
			dt[entry] += s.total
		}
		var cc, ct, prev float64
		for j, c := range perm {
			cc += dc[j]
			ct += dt[j]
			v := 0.0
			if ct > 0 {
				v = cc / ct
			}
			d := v - prev
			prev = v
			sum[c] += d
			sumSq[c] += d * d
		}
	}
	m := float64(samples)
	res := ShapleyResult{Phi: make([]float64, n), StdErr: make([]float64, n), Samples: samples}
	for c := 0; c < n; c++ {
		mean := sum[c] / m
		res.Phi[c] = mean
		variance := math.Max(0, (sumSq[c]-m*mean*mean)/(m-1))
		res.StdErr[c] = math.Sqrt(variance / m)
	}
	return res, nil
}
