package eval

import (
	"fmt"
	"sort"
)

// DecileLift describes one tenth of the rows ranked by decreasing
// prediction (decile 1 holds the highest predictions).
type DecileLift struct {
	Decile int `json:"decile"`
	// Rows is the number of rows in the decile; it is fractional when n is
	// not a multiple of 10.
	Rows float64 `json:"rows"`
	// Positives is the expected number of positives in the decile when tied
	// predictions are ordered at random.
	Positives float64 `json:"positives"`
	// Rate is Positives / Rows.
	Rate float64 `json:"rate"`
	// Lift is Rate divided by the overall positive rate.
	Lift float64 `json:"lift"`
	// CumulativeCapture is the share of all positives found in deciles 1..Decile.
	CumulativeCapture float64 `json:"cumulative_capture"`
	// CumulativeLift is the positive rate of deciles 1..Decile over the overall rate.
	CumulativeLift float64 `json:"cumulative_lift"`
}

// LiftCurve ranks rows by decreasing prediction, cuts them into ten equal
// tenths (fractional rows allowed) and reports each tenth's positive rate.
// A group of tied predictions that straddles a cut gives each side a share
// of its positives in proportion to the rows on that side: the expected
// count under a random order of the ties, so the result never depends on
// how a sort happened to break ties.
func LiftCurve(y, p []float64) ([]DecileLift, error) {
	positives, err := checkBothClasses(y, p)
	if err != nil {
		return nil, fmt.Errorf("lift curve: %w", err)
	}
	top := topPositives(groupsDescending(y, p))
	n := float64(len(y))
	P := float64(positives)
	rate := P / n
	out := make([]DecileLift, 10)
	prev := 0.0
	for d := 1; d <= 10; d++ {
		k := n * float64(d) / 10
		cum := top(k)
		rows := k - n*float64(d-1)/10
		out[d-1] = DecileLift{
			Decile:            d,
			Rows:              rows,
			Positives:         cum - prev,
			Rate:              (cum - prev) / rows,
			Lift:              (cum - prev) / rows / rate,
			CumulativeCapture: cum / P,
			CumulativeLift:    cum / k / rate,
		}
		prev = cum
	}
	return out, nil
}

// TopDecile returns the lift (positive rate among the top 10% of rows by
// prediction over the overall rate) and the capture (share of all positives
// found there), with ties treated as in LiftCurve.
func TopDecile(y, p []float64) (lift, capture float64, err error) {
	curve, err := LiftCurve(y, p)
	if err != nil {
		return 0, 0, fmt.Errorf("top decile: %w", err)
	}
	return curve[0].CumulativeLift, curve[0].CumulativeCapture, nil
}

// topPositives returns f(k), the expected number of positives among the k
// highest-ranked rows (k real in [0, n]) when tied rows are in random order:
// piecewise linear inside each tied group.
func topPositives(gs []group) func(k float64) float64 {
	start := make([]float64, len(gs)+1) // rows before group i
	cum := make([]float64, len(gs)+1)   // positives before group i
	for i, g := range gs {
		start[i+1] = start[i] + float64(g.rows)
		cum[i+1] = cum[i] + float64(g.positives)
	}
	return func(k float64) float64 {
		// The group holding rank position k: the last group starting before k.
		i := sort.SearchFloat64s(start, k) - 1
		if i < 0 {
			return 0
		}
		if i >= len(gs) {
			return cum[len(gs)]
		}
		g := gs[i]
		return cum[i] + (k-start[i])*float64(g.positives)/float64(g.rows)
	}
}
