package cluster

import "math/rand/v2"

// blobs draws perBlob points around each centre with independent normal
// noise of standard deviation sd, interleaving blobs so that order carries
// no information; truth[i] is the centre index of point i.
func blobs(seed uint64, centers [][]float64, perBlob int, sd float64) (points [][]float64, truth []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < perBlob; i++ {
		for c, m := range centers {
			p := make([]float64, len(m))
			for j := range m {
				p[j] = m[j] + sd*rng.NormFloat64()
			}
			points = append(points, p)
			truth = append(truth, c)
		}
	}
	return points, truth
}

// fourCenters are four well-separated centres in 3 dimensions: pairwise at
// least 10 apart, against unit noise.
func fourCenters() [][]float64 {
	return [][]float64{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {5, 5, 10}}
}

// matchesTruth reports whether labels equal truth up to a renaming of the
// clusters (a bijection).
func matchesTruth(labels, truth []int) bool {
	toLabel, toTruth := map[int]int{}, map[int]int{}
	for i := range labels {
		if l, ok := toLabel[truth[i]]; ok && l != labels[i] {
			return false
		}
		if tr, ok := toTruth[labels[i]]; ok && tr != truth[i] {
			return false
		}
		toLabel[truth[i]], toTruth[labels[i]] = labels[i], truth[i]
	}
	return true
}
