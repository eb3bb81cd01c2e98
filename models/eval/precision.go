package eval

import "fmt"

// AveragePrecision returns the area under the precision-recall curve as
// average precision: the sum over distinct cutoffs of the recall gained at
// the cutoff times the precision there, AP = Σ (R_k − R_{k−1}) P_k. Rows
// tied on a prediction enter at one cutoff together (no interpolation),
// as scikit-learn's average_precision_score does.
func AveragePrecision(y, p []float64) (float64, error) {
	positives, err := checkBothClasses(y, p)
	if err != nil {
		return 0, fmt.Errorf("average precision: %w", err)
	}
	var ap float64
	var rows, tp int
	for _, g := range groupsDescending(y, p) {
		rows += g.rows
		tp += g.positives
		if g.positives > 0 {
			ap += float64(g.positives) / float64(positives) * float64(tp) / float64(rows)
		}
	}
	return ap, nil
}
