package attribution

import (
	"context"
	"fmt"
	"sort"
)

// DefaultHalfLife is the time-decay half-life RunAll uses when none is given:
// 7 days (Google Analytics' default), or 7 steps for paths without Days.
const DefaultHalfLife = 7

// Config selects the parameters of RunAll. Zero fields take defaults.
type Config struct {
	HalfLife float64
	// Position nil means DefaultPositionParams.
	Position *PositionParams
	// MarkovOrders nil means orders 1, 2 and 3.
	MarkovOrders []int
	// Hazard, when set, credits with a touch-hazard model fitted before
	// (on a longer period: its effects are the channels', not a month's);
	// nil fits one on paths.
	Hazard *HazardModel
}

// RunAll runs every model over paths and returns one tidy table sorted by
// model then channel.
func RunAll(ctx context.Context, paths []Path, cfg Config) ([]Credit, error) {
	if cfg.HalfLife == 0 {
		cfg.HalfLife = DefaultHalfLife
	}
	pp := DefaultPositionParams()
	if cfg.Position != nil {
		pp = *cfg.Position
	}
	orders := cfg.MarkovOrders
	if orders == nil {
		orders = []int{1, 2, 3}
	}
	var out []Credit
	heuristics := []func() ([]Credit, error){
		func() ([]Credit, error) { return FirstTouch(paths) },
		func() ([]Credit, error) { return LastTouch(paths) },
		func() ([]Credit, error) { return Linear(paths) },
		func() ([]Credit, error) { return TimeDecay(paths, cfg.HalfLife) },
		func() ([]Credit, error) { return PositionBased(paths, pp) },
		func() ([]Credit, error) { return ShapleyAdditive(paths) },
	}
	for _, run := range heuristics {
		cs, err := run()
		if err != nil {
			return nil, fmt.Errorf("run all: %w", err)
		}
		out = append(out, cs...)
	}
	for _, k := range orders {
		res, err := Markov(ctx, paths, k)
		if err != nil {
			return nil, fmt.Errorf("run all: %w", err)
		}
		out = append(out, res.Credits...)
	}
	hm := cfg.Hazard
	if hm == nil {
		m, err := FitHazard(ctx, paths)
		if err != nil {
			return nil, fmt.Errorf("run all: %w", err)
		}
		hm = &m
	}
	hz, err := hm.Credit(paths)
	if err != nil {
		return nil, fmt.Errorf("run all: %w", err)
	}
	out = append(out, hz...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Channel < out[j].Channel
	})
	return out, nil
}
