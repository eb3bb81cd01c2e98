package attribution

import (
	"fmt"
	"math"
)

// PositionParams configures the position-based model: First and Last are the
// shares of the first and last touch; the rest is split evenly over the middle
// touches. Following Google Analytics' position-based model, a one-touch path
// gives all credit to its touch and a two-touch path splits it 50/50.
type PositionParams struct {
	First float64
	Last  float64
}

// DefaultPositionParams is the usual 40/20/40 split.
func DefaultPositionParams() PositionParams { return PositionParams{First: 0.4, Last: 0.4} }

// weightFunc returns, for one path, a weight per touch summing to 1.
type weightFunc func(p Path) []float64

// heuristic credits each path's conversions and value to its touches by w.
// A channel touched twice in a path collects both touches' weights.
func heuristic(model string, paths []Path, w weightFunc) ([]Credit, error) {
	if err := validate(paths); err != nil {
		return nil, fmt.Errorf("%s: %w", model, err)
	}
	names, idx := channelIndex(paths)
	out := make([]Credit, len(names))
	for i, c := range names {
		out[i] = Credit{Model: model, Channel: c}
	}
	for _, p := range paths {
		for j, wt := range w(p) {
			k := idx[p.Channels[j]]
			out[k].Conversions += wt * p.Conversions
			out[k].Value += wt * p.Value
		}
	}
	return out, nil
}

// FirstTouch credits everything to the first touch of each path.
func FirstTouch(paths []Path) ([]Credit, error) {
	return heuristic(ModelFirstTouch, paths, func(p Path) []float64 {
		w := make([]float64, len(p.Channels))
		w[0] = 1
		return w
	})
}

// LastTouch credits everything to the last touch of each path.
func LastTouch(paths []Path) ([]Credit, error) {
	return heuristic(ModelLastTouch, paths, func(p Path) []float64 {
		w := make([]float64, len(p.Channels))
		w[len(w)-1] = 1
		return w
	})
}

// Linear splits each path's credit evenly over its touches.
func Linear(paths []Path) ([]Credit, error) {
	return heuristic(ModelLinear, paths, func(p Path) []float64 {
		w := make([]float64, len(p.Channels))
		for i := range w {
			w[i] = 1 / float64(len(w))
		}
		return w
	})
}

// TimeDecay weights each touch by 2^(-t/halfLife), t being its time before
// conversion in days (Path.Days) or, without Days, its distance in steps from
// the last touch (1 step = 1 unit, so halfLife is then in steps); weights are
// normalised per path.
func TimeDecay(paths []Path, halfLife float64) ([]Credit, error) {
	if !(halfLife > 0) || math.IsInf(halfLife, 0) {
		return nil, fmt.Errorf("%s: half-life must be positive and finite, got %v", ModelTimeDecay, halfLife)
	}
	return heuristic(ModelTimeDecay, paths, func(p Path) []float64 {
		n := len(p.Channels)
		w := make([]float64, n)
		var sum float64
		for i := range w {
			t := float64(n - 1 - i)
			if p.Days != nil {
				t = p.Days[i]
			}
			w[i] = math.Exp2(-t / halfLife)
			sum += w[i]
		}
		for i := range w {
			w[i] /= sum
		}
		return w
	})
}

// PositionBased gives First and Last shares to the end touches and splits the
// remainder evenly over the middle ones (see PositionParams for short paths).
func PositionBased(paths []Path, pp PositionParams) ([]Credit, error) {
	if pp.First < 0 || pp.Last < 0 || pp.First+pp.Last > 1 {
		return nil, fmt.Errorf("%s: shares must be non-negative with first+last <= 1, got %+v", ModelPositionBased, pp)
	}
	return heuristic(ModelPositionBased, paths, func(p Path) []float64 {
		n := len(p.Channels)
		w := make([]float64, n)
		switch n {
		case 1:
			w[0] = 1
		case 2:
			w[0], w[1] = 0.5, 0.5
		default:
			w[0], w[n-1] = pp.First, pp.Last
			mid := (1 - pp.First - pp.Last) / float64(n-2)
			for i := 1; i < n-1; i++ {
				w[i] = mid
			}
		}
		return w
	})
}
