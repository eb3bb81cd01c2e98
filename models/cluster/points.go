package cluster

import (
	"fmt"
	"math"
)

// checkPoints verifies that points is a non-empty matrix of finite values
// and returns its number of columns.
func checkPoints(points [][]float64) (int, error) {
	if len(points) == 0 {
		return 0, fmt.Errorf("no points")
	}
	d := len(points[0])
	if d == 0 {
		return 0, fmt.Errorf("points have no features")
	}
	for i, p := range points {
		if len(p) != d {
			return 0, fmt.Errorf("point %d has %d features, point 0 has %d", i, len(p), d)
		}
		for j, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("point %d, feature %d is %v", i, j, v)
			}
		}
	}
	return d, nil
}

// sqDist returns the squared Euclidean distance between a and b.
func sqDist(a, b []float64) float64 {
	b = b[:len(a)] // one bounds check, not one per coordinate
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// featureMoments returns the mean and population standard deviation of each
// column (two passes, so large offsets do not cost precision).
func featureMoments(points [][]float64) (means, sds []float64) {
	d := len(points[0])
	n := float64(len(points))
	means, sds = make([]float64, d), make([]float64, d)
	for _, p := range points {
		for j, v := range p {
			means[j] += v
		}
	}
	for j := range means {
		means[j] /= n
	}
	for _, p := range points {
		for j, v := range p {
			dv := v - means[j]
			sds[j] += dv * dv
		}
	}
	for j := range sds {
		sds[j] = math.Sqrt(sds[j] / n)
	}
	return means, sds
}
