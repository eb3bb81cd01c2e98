package eval

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

// ROCPoint is one point of the ROC curve: the rates obtained when every
// row with a prediction >= Threshold is called positive.
type ROCPoint struct {
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
	Threshold float64 `json:"threshold"`
}

// roc returns the full ROC curve, one point per distinct prediction plus the
// (0, 0) start, with FPR non-decreasing. It is gonum's stat.ROC over all
// cutoffs, so tied predictions move FPR and TPR together (a diagonal step).
func roc(y, p []float64) []ROCPoint {
	scores := slices.Clone(p)
	classes := make([]bool, len(y))
	for i, v := range y {
		classes[i] = v == 1
	}
	stat.SortWeightedLabeled(scores, classes, nil)
	tpr, fpr, thresh := stat.ROC(nil, scores, classes, nil)
	pts := make([]ROCPoint, len(tpr))
	for i := range tpr {
		pts[i] = ROCPoint{FPR: fpr[i], TPR: tpr[i], Threshold: thresh[i]}
	}
	// gonum starts at an infinite cutoff; JSON has no infinity, and the
	// smallest number above the top score selects the same (empty) set.
	if len(pts) > 0 && math.IsInf(pts[0].Threshold, 1) {
		pts[0].Threshold = math.Nextafter(scores[len(scores)-1], math.Inf(1))
	}
	return pts
}

// ROCAUC returns the area under the ROC curve, integrated with the
// trapezoidal rule over every distinct cutoff. Tied predictions get half
// credit, which makes it equal the Mann-Whitney U statistic (with mid-ranks)
// divided by positives*negatives.
func ROCAUC(y, p []float64) (float64, error) {
	if _, err := checkBothClasses(y, p); err != nil {
		return 0, fmt.Errorf("roc auc: %w", err)
	}
	return rocArea(roc(y, p)), nil
}

func rocArea(pts []ROCPoint) float64 {
	fpr := make([]float64, len(pts))
	tpr := make([]float64, len(pts))
	for i, pt := range pts {
		fpr[i], tpr[i] = pt.FPR, pt.TPR
	}
	return integrate.Trapezoidal(fpr, tpr)
}

// ROCCurve returns at most maxPoints points of the ROC curve for charts,
// always keeping the (0, 0) and (1, 1) ends; the points kept are evenly
// spaced along the list of distinct cutoffs. maxPoints < 2 means 2.
func ROCCurve(y, p []float64, maxPoints int) ([]ROCPoint, error) {
	if _, err := checkBothClasses(y, p); err != nil {
		return nil, fmt.Errorf("roc curve: %w", err)
	}
	return downsample(roc(y, p), maxPoints), nil
}

func downsample(pts []ROCPoint, maxPoints int) []ROCPoint {
	maxPoints = max(maxPoints, 2)
	n := len(pts)
	if n <= maxPoints {
		return pts
	}
	out := make([]ROCPoint, maxPoints)
	for k := range out {
		// Exact integer rounding of k*(n-1)/(maxPoints-1).
		i := (2*k*(n-1) + (maxPoints - 1)) / (2 * (maxPoints - 1))
		out[k] = pts[i]
	}
	return out
}
