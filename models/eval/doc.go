// Package eval scores binary probability forecasts against observed 0/1
// outcomes: ROC AUC, PR AUC (average precision), lift and capture by decile,
// Brier score, log loss, a calibration table and a downsampled ROC curve.
//
// Every function takes y (observed labels, each 0 or 1) and p (predicted
// probabilities in [0, 1]) of equal length. Ties in p are handled as a
// random ordering of the tied rows would be on average: a tied group
// contributes a diagonal segment to the ROC curve (half credit, as in the
// Mann-Whitney U statistic with mid-ranks), one step to the precision-recall
// curve, and a pro-rata share of its positives to a decile it straddles.
package eval
