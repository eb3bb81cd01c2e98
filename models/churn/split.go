package churn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// StratifiedSplit splits row indices into train and holdout so that each
// class keeps its share: round(frac × class size) rows of each class go to
// the holdout (at least one and never all, when the class has two or more
// rows). The rows chosen depend only on y, frac and seed; both index lists
// come back in increasing order.
func StratifiedSplit(y []float64, frac float64, seed uint64) (train, holdout []int, err error) {
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("stratified split: holdout fraction %v not in (0, 1)", frac)
	}
	rng := rand.New(rand.NewPCG(seed, 0x73706c6974)) // stream "split"
	for _, class := range []float64{0, 1} {
		var idx []int
		for i, v := range y {
			if v == class {
				idx = append(idx, i)
			}
		}
		k := int(math.Round(frac * float64(len(idx))))
		if len(idx) >= 2 {
			k = min(max(k, 1), len(idx)-1)
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		holdout = append(holdout, idx[:k]...)
		train = append(train, idx[k:]...)
	}
	if len(train)+len(holdout) != len(y) {
		return nil, nil, fmt.Errorf("stratified split: labels must be 0 or 1")
	}
	slices.Sort(train)
	slices.Sort(holdout)
	return train, holdout, nil
}

// StratifiedSample returns about size row indices (increasing) drawn
// without replacement so that each class keeps its share; all rows when
// size >= len(y).
func StratifiedSample(y []float64, size int, seed uint64) ([]int, error) {
	if size >= len(y) {
		all := make([]int, len(y))
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	if size < 2 {
		return nil, fmt.Errorf("stratified sample: size %d < 2", size)
	}
	_, sample, err := StratifiedSplit(y, float64(size)/float64(len(y)), seed)
	if err != nil {
		return nil, fmt.Errorf("stratified sample: %w", err)
	}
	return sample, nil
}
