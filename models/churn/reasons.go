package churn

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Describer turns a feature and the customer's value of it into plain
// words, e.g. ("days_since_last_order", 142) → "no purchase for 142 days".
// value is NaN when the customer's value is missing.
type Describer func(feature string, value float64) string

// DescribeValue is the default Describer: "<feature> = <value>", with
// integers printed without decimals, "<feature> is missing" for NaN, and
// one-hot features ("plan=basic") read as "plan is basic" (value 1) or
// "plan is not basic" (value 0).
func DescribeValue(feature string, value float64) string {
	if column, level, ok := strings.Cut(feature, "="); ok && (value == 0 || value == 1) {
		if value == 1 {
			return column + " is " + level
		}
		return column + " is not " + level
	}
	if math.IsNaN(value) {
		return feature + " is missing"
	}
	return feature + " = " + formatValue(value)
}

// formatValue prints integers exactly and other numbers to 4 significant
// digits, which is what a person reading a reason needs.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Reason is one feature that pushed a customer's churn risk up.
type Reason struct {
	Feature string `json:"feature"`
	// Value is the customer's value of the feature (0 when Missing).
	Value float64 `json:"value"`
	// Missing is true when the customer's value is missing.
	Missing bool `json:"missing,omitempty"`
	// Contribution is the feature's push on the log-odds scale (> 0).
	Contribution float64 `json:"contribution"`
	// Text is the Describer's wording.
	Text string `json:"text"`
}

// TopReasons returns up to k features with the largest positive
// contributions (features whose contribution is <= 0 never appear), largest
// first, ties in feature order. contrib, features and values are one row.
func TopReasons(contrib []float64, features []string, values []float64, k int, describe Describer) []Reason {
	if describe == nil {
		describe = DescribeValue
	}
	idx := make([]int, 0, len(contrib))
	for j, c := range contrib {
		if c > 0 {
			idx = append(idx, j)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return contrib[idx[a]] > contrib[idx[b]] })
	if len(idx) > k {
		idx = idx[:max(k, 0)]
	}
	out := make([]Reason, len(idx))
	for n, j := range idx {
		r := Reason{Feature: features[j], Value: values[j], Contribution: contrib[j]}
		if math.IsNaN(values[j]) {
			r.Value, r.Missing = 0, true
		}
		r.Text = describe(features[j], values[j])
		out[n] = r
	}
	return out
}
