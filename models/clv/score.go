package clv

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/parcours/parcours/internal/parallel"
)

// ScoreOptions sets the value horizon of Model.Score.
type ScoreOptions struct {
	// HorizonDays is the CLV horizon in days (e.g. 365).
	HorizonDays float64
	// AnnualDiscountRate discounts future revenue, e.g. 0.1 for 10% a year;
	// 0 means no discounting.
	AnnualDiscountRate float64
	// PeriodDays is the length of the cash-flow periods in days; 0 means 30.
	PeriodDays float64
}

// Score is what the nightly job stores per customer.
type Score struct {
	ID string `json:"id"`
	// ProbAlive is P(alive | x, tₓ, T) at the end of calibration.
	ProbAlive float64 `json:"prob_alive"`
	// Purchases30, Purchases90 and Purchases365 are the expected numbers of
	// purchases in the next 30, 90 and 365 days.
	Purchases30  float64 `json:"purchases_30d"`
	Purchases90  float64 `json:"purchases_90d"`
	Purchases365 float64 `json:"purchases_365d"`
	// ExpectedSpend is the expected value of one future purchase, E[M | x, m̄].
	ExpectedSpend float64 `json:"expected_spend"`
	// CLV is the discounted expected revenue over the horizon (see Model.Score).
	CLV float64 `json:"clv"`
}

// Score scores customers (summaries in the model's time unit, built at the
// date from which the future is counted).
//
// The horizon H is cut into periods of P days; with tᵢ = min(i·P, H) and
// n = ⌈H/P⌉,
//
//	CLV = Σᵢ₌₁ⁿ (E[Y(tᵢ)] - E[Y(tᵢ₋₁)]) · E[M | x, m̄] / (1+d)^(tᵢ/365)
//
// where E[Y(t)] is the BG/NBD conditional expected number of purchases by t,
// E[M] the Gamma-Gamma expected spend and d the annual discount rate: each
// period's expected revenue is discounted from the end of the period. Spend
// is assumed independent of the purchase process, as both models assume. CLV
// is revenue; multiply by a margin for profit.
func (m *Model) Score(ctx context.Context, customers []Customer, opts ScoreOptions) ([]Score, error) {
	unitDays, err := m.TimeUnit.LengthInDays()
	if err != nil {
		return nil, fmt.Errorf("score clv: %w", err)
	}
	if opts.PeriodDays == 0 {
		opts.PeriodDays = 30
	}
	switch {
	case !(opts.HorizonDays > 0) || math.IsInf(opts.HorizonDays, 0):
		return nil, fmt.Errorf("score clv: horizon %v days must be positive", opts.HorizonDays)
	case !(opts.PeriodDays > 0) || math.IsInf(opts.PeriodDays, 0):
		return nil, fmt.Errorf("score clv: period %v days must be positive", opts.PeriodDays)
	case !(opts.AnnualDiscountRate > -1) || math.IsInf(opts.AnnualDiscountRate, 0):
		return nil, fmt.Errorf("score clv: annual discount rate %v must be above -1", opts.AnnualDiscountRate)
	}
	bg, gg := m.Purchases(), m.GammaGamma.Params
	// Customers with the same (x, tₓ, T) share everything the purchase
	// model says of them, and many do (half of the purchasers at a million
	// customers): each distinct one is computed once, then every customer
	// takes its own spend. Keys are the values' bits, so sharing never
	// changes a result.
	first := map[[3]uint64]int32{}
	of := make([]int32, len(customers))
	var distinct []Customer
	for i, c := range customers {
		k := [3]uint64{math.Float64bits(c.X), math.Float64bits(c.TX), math.Float64bits(c.T)}
		j, ok := first[k]
		if !ok {
			j = int32(len(distinct))
			first[k] = j
			distinct = append(distinct, c)
		}
		of[i] = j
	}
	// In (x, T) order, a BG/NBD worker computes the series of the
	// expectation once per (x, T) (see factorMemo): at a million
	// customers, 380,000 distinct (x, tₓ, T) but far fewer (x, T).
	order := make([]int, len(distinct))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := distinct[i], distinct[j]
		return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.T, b.T), cmp.Compare(i, j))
	})
	parts := make([]purchasePart, len(distinct))
	err = parallel.Chunks(ctx, len(order), 1024, func(lo, hi int) error {
		model := bg
		if p, ok := bg.(BGNBDParams); ok {
			model = memoized{p, &factorMemo{p: p}}
		}
		for _, i := range order[lo:hi] {
			parts[i] = purchaseOf(model, distinct[i], unitDays, opts)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("score clv: %w", err)
	}
	return scoreAll(ctx, customers, func(i int) (Score, error) {
		return finish(parts[of[i]], gg, customers[i], opts)
	})
}

// scoreAll scores customers in blocks of 1,024 on every core
// (parallel.Chunks): each score lands at its customer's index, so the
// result is the same whatever the number of workers, and the error
// returned is the first failing customer's in input order.
func scoreAll(ctx context.Context, customers []Customer, score func(i int) (Score, error)) ([]Score, error) {
	out := make([]Score, len(customers))
	err := parallel.Chunks(ctx, len(customers), 1024, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			s, err := score(i)
			if err != nil {
				return err
			}
			out[i] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("score clv: %w", err)
	}
	return out, nil
}

// memoized is a BG/NBD model whose conditional expectations share their
// factor between customers of the same (x, T), one worker's.
type memoized struct {
	BGNBDParams
	memo *factorMemo
}

// ConditionalExpectedPurchases is BGNBDParams', bit for bit.
func (m memoized) ConditionalExpectedPurchases(c Customer, t float64) (float64, error) {
	return m.conditionalExpected(c, t, m.memo.factor)
}

// purchasePart is what the purchase model says of one (x, tₓ, T): the
// probability of being alive, the expected purchases at 30, 90 and 365
// days and by the end of each cash-flow period.
type purchasePart struct {
	alive    float64
	horizons [3]float64
	cums     []float64
	// err fails the customer before the spend is computed (probability
	// alive, horizons), cumErr after it (periods): the order scoring one
	// customer at a time reported them in.
	err, cumErr error
}

var horizonDays = [3]float64{30, 90, 365}

func purchaseOf(bg PurchaseModel, c Customer, unitDays float64, opts ScoreOptions) purchasePart {
	var p purchasePart
	if p.alive, p.err = bg.ProbAlive(c); p.err != nil {
		return p
	}
	for h, days := range horizonDays {
		if p.horizons[h], p.err = bg.ConditionalExpectedPurchases(c, days/unitDays); p.err != nil {
			return p
		}
	}
	periods := int(math.Ceil(opts.HorizonDays / opts.PeriodDays))
	p.cums = make([]float64, 0, periods)
	for i := 1; i <= periods; i++ {
		cum, err := bg.ConditionalExpectedPurchases(c, periodEnd(i, opts)/unitDays)
		if err != nil {
			p.cumErr = err
			return p
		}
		p.cums = append(p.cums, cum)
	}
	return p
}

// periodEnd is the end of cash-flow period i (from 1), in days.
func periodEnd(i int, opts ScoreOptions) float64 {
	return math.Min(float64(i)*opts.PeriodDays, opts.HorizonDays)
}

// finish adds customer c's spend to its purchase part.
func finish(p purchasePart, gg GammaGammaParams, c Customer, opts ScoreOptions) (Score, error) {
	if p.err != nil {
		return Score{}, p.err
	}
	s := Score{ID: c.ID, ProbAlive: p.alive, Purchases30: p.horizons[0], Purchases90: p.horizons[1], Purchases365: p.horizons[2]}
	var err error
	if s.ExpectedSpend, err = gg.ConditionalExpectedSpend(c); err != nil {
		return Score{}, err
	}
	if p.cumErr != nil {
		return Score{}, p.cumErr
	}
	prev := 0.0
	for i, cum := range p.cums {
		t := periodEnd(i+1, opts)
		s.CLV += (cum - prev) * s.ExpectedSpend / math.Pow(1+opts.AnnualDiscountRate, t/365)
		prev = cum
	}
	return s, nil
}
