package churn

import "math"

// columnMeans returns each column's mean over its non-missing values (0 for
// a column with none), the value NaN is replaced by for learners that need
// complete data.
func columnMeans(x *Matrix) []float64 {
	c := x.Cols()
	sum := make([]float64, c)
	n := make([]int, c)
	for i := range x.Rows {
		for j, v := range x.Row(i) {
			if !math.IsNaN(v) {
				sum[j] += v
				n[j]++
			}
		}
	}
	for j := range sum {
		if n[j] > 0 {
			sum[j] /= float64(n[j])
		}
	}
	return sum
}

// sigmoid is the logistic function, computed without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// logit is the inverse of sigmoid.
func logit(p float64) float64 { return math.Log(p / (1 - p)) }
