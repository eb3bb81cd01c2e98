package eval

import (
	"slices"
)

// sortIndexDescending sorts idx so that p[idx[k]] decreases; equal values
// keep their index order so results do not depend on the sort algorithm.
func sortIndexDescending(idx []int, p []float64) {
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
}
