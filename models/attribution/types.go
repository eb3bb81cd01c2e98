package attribution

import (
	"fmt"
	"sort"
)

// Path is one aggregated conversion path: an ordered channel sequence with the
// number of journeys that followed it and converted (Conversions, with total
// Value) or did not (Nulls).
type Path struct {
	Channels []string
	// Days optionally holds, per touch, its time before conversion in days.
	// When nil, time decay uses positions instead (the last touch is 0 units
	// before conversion, the one before it 1 unit, and so on).
	Days        []float64
	Conversions float64
	Value       float64
	Nulls       float64
}

// Credit is one result row: the conversions and value a model credits to a channel.
type Credit struct {
	Model       string
	Channel     string
	Conversions float64
	Value       float64
}

// Model names used in Credit.Model.
const (
	ModelFirstTouch    = "first_touch"
	ModelLastTouch     = "last_touch"
	ModelLinear        = "linear"
	ModelTimeDecay     = "time_decay"
	ModelPositionBased = "position_based"
	ModelMarkovPrefix  = "markov_order_"
	ModelShapleyAdd    = "shapley_additive"
	ModelTouchHazard   = "touch_hazard"
)

// validate checks that a path set is usable by every model.
func validate(paths []Path) error {
	for i, p := range paths {
		if len(p.Channels) == 0 {
			return fmt.Errorf("path %d: no channels", i)
		}
		for j, c := range p.Channels {
			if c == "" {
				return fmt.Errorf("path %d: empty channel at touch %d", i, j)
			}
		}
		if p.Days != nil && len(p.Days) != len(p.Channels) {
			return fmt.Errorf("path %d: %d days for %d channels", i, len(p.Days), len(p.Channels))
		}
		if p.Conversions < 0 || p.Nulls < 0 || p.Value < 0 {
			return fmt.Errorf("path %d: negative count or value", i)
		}
		if p.Value > 0 && p.Conversions == 0 {
			return fmt.Errorf("path %d: value %v without conversions", i, p.Value)
		}
	}
	return nil
}

// totals returns the summed conversions and value of a path set.
func totals(paths []Path) (conv, value float64) {
	for _, p := range paths {
		conv += p.Conversions
		value += p.Value
	}
	return conv, value
}

// channelIndex maps every channel to a dense index in sorted name order, so
// results are deterministic.
func channelIndex(paths []Path) ([]string, map[string]int) {
	seen := map[string]bool{}
	for _, p := range paths {
		for _, c := range p.Channels {
			seen[c] = true
		}
	}
	names := make([]string, 0, len(seen))
	for c := range seen {
		names = append(names, c)
	}
	sort.Strings(names)
	idx := make(map[string]int, len(names))
	for i, c := range names {
		idx[c] = i
	}
	return names, idx
}
