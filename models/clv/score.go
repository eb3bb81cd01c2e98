package clv

import (
	"context"
	"fmt"
	"math"

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
	return scoreAll(ctx, customers, func(c Customer) (Score, error) {
		return scoreOne(bg, gg, c, unitDays, opts)
	})
}

// scoreAll scores customers in blocks of 1,024 on every core
// (parallel.Chunks): each score lands at its customer's index, so the
// result is the same whatever the number of workers, and the error
// returned is the first failing customer's in input order.
func scoreAll(ctx context.Context, customers []Customer, score func(Customer) (Score, error)) ([]Score, error) {
	out := make([]Score, len(customers))
	err := parallel.Chunks(ctx, len(customers), 1024, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			s, err := score(customers[i])
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

func scoreOne(bg PurchaseModel, gg GammaGammaParams, c Customer, unitDays float64, opts ScoreOptions) (Score, error) {
	s := Score{ID: c.ID}
	var err error
	if s.ProbAlive, err = bg.ProbAlive(c); err != nil {
		return Score{}, err
	}
	for _, h := range []struct {
		days float64
		dst  *float64
	}{{30, &s.Purchases30}, {90, &s.Purchases90}, {365, &s.Purchases365}} {
		if *h.dst, err = bg.ConditionalExpectedPurchases(c, h.days/unitDays); err != nil {
			return Score{}, err
		}
	}
	if s.ExpectedSpend, err = gg.ConditionalExpectedSpend(c); err != nil {
		return Score{}, err
	}
	prev := 0.0
	periods := int(math.Ceil(opts.HorizonDays / opts.PeriodDays))
	for i := 1; i <= periods; i++ {
		t := math.Min(float64(i)*opts.PeriodDays, opts.HorizonDays)
		cum, err := bg.ConditionalExpectedPurchases(c, t/unitDays)
		if err != nil {
			return Score{}, err
		}
		s.CLV += (cum - prev) * s.ExpectedSpend / math.Pow(1+opts.AnnualDiscountRate, t/365)
		prev = cum
	}
	return s, nil
}
