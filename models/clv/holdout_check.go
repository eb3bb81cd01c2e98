package clv

import (
	"context"
	"fmt"
	"strconv"
)

// holdoutTopGroup is the calibration frequency from which customers are
// pooled into one "7+" group, as in FHL 2005 and the BTYD package.
const holdoutTopGroup = 7

// HoldoutRow compares predicted and actual holdout purchases for the
// customers with one calibration frequency (or, for "7+", at least 7).
type HoldoutRow struct {
	// Group is the calibration number of repeat purchases: "0" … "6" or "7+".
	Group         string  `json:"group"`
	Customers     int     `json:"customers"`
	MeanPredicted float64 `json:"mean_predicted"`
	MeanActual    float64 `json:"mean_actual"`
}

// HoldoutCheck predicts each customer's purchases over the holdout length,
// E[Y(h.Length) | x, tₓ, T], and averages predictions and actual counts by
// calibration frequency 0, 1, …, 6, 7+. Groups without customers are left
// out; rows come in increasing frequency.
func (p BGNBDParams) HoldoutCheck(ctx context.Context, h Holdout) ([]HoldoutRow, error) {
	return holdoutCheck(ctx, p, h)
}

func holdoutCheck(ctx context.Context, p PurchaseModel, h Holdout) ([]HoldoutRow, error) {
	if len(h.Actual) != len(h.Customers) {
		return nil, fmt.Errorf("holdout check: %d customers but %d actual counts", len(h.Customers), len(h.Actual))
	}
	var count [holdoutTopGroup + 1]int
	var pred, act [holdoutTopGroup + 1]float64
	for i, c := range h.Customers {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("holdout check: %w", err)
			}
		}
		y, err := p.ConditionalExpectedPurchases(c, h.Length)
		if err != nil {
			return nil, fmt.Errorf("holdout check: %w", err)
		}
		g := min(int(c.X), holdoutTopGroup)
		count[g]++
		pred[g] += y
		act[g] += h.Actual[i]
	}
	var rows []HoldoutRow
	for g, n := range count {
		if n == 0 {
			continue
		}
		label := strconv.Itoa(g)
		if g == holdoutTopGroup {
			label += "+"
		}
		rows = append(rows, HoldoutRow{
			Group:         label,
			Customers:     n,
			MeanPredicted: pred[g] / float64(n),
			MeanActual:    act[g] / float64(n),
		})
	}
	return rows, nil
}
