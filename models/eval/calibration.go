package eval

import (
	"fmt"
	"math"
)

// CalibrationBin is one bin of predictions [Lower, Upper) (the last bin
// includes 1): how many rows fell in it, their mean prediction and the
// observed positive rate. Empty bins report zeros with Count 0.
type CalibrationBin struct {
	Lower         float64 `json:"lower"`
	Upper         float64 `json:"upper"`
	Count         int     `json:"count"`
	MeanPredicted float64 `json:"mean_predicted"`
	ObservedRate  float64 `json:"observed_rate"`
}

// Calibration returns a reliability table with bins equal-width bins on
// [0, 1]; a well-calibrated model has MeanPredicted ≈ ObservedRate in every
// populated bin.
func Calibration(y, p []float64, bins int) ([]CalibrationBin, error) {
	if _, err := checkInput(y, p); err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	if bins < 1 {
		return nil, fmt.Errorf("calibration: %w: %d bins", ErrInput, bins)
	}
	out := make([]CalibrationBin, bins)
	sumP := make([]float64, bins)
	sumY := make([]float64, bins)
	for i := range out {
		out[i].Lower = float64(i) / float64(bins)
		out[i].Upper = float64(i+1) / float64(bins)
	}
	for i := range p {
		b := min(int(p[i]*float64(bins)), bins-1)
		out[b].Count++
		sumP[b] += p[i]
		sumY[b] += y[i]
	}
	for b := range out {
		if out[b].Count > 0 {
			out[b].MeanPredicted = sumP[b] / float64(out[b].Count)
			out[b].ObservedRate = sumY[b] / float64(out[b].Count)
		}
	}
	return out, nil
}

// Brier returns the mean squared difference between prediction and label.
func Brier(y, p []float64) (float64, error) {
	if _, err := checkInput(y, p); err != nil {
		return 0, fmt.Errorf("brier: %w", err)
	}
	var s float64
	for i := range y {
		d := p[i] - y[i]
		s += d * d
	}
	return s / float64(len(y)), nil
}

// logLossEps bounds predictions away from 0 and 1 so that one confident
// mistake gives a large but finite loss (the scikit-learn convention).
const logLossEps = 1e-15

// LogLoss returns the mean negative log-likelihood (natural log) of the
// labels under the predictions, with predictions clipped to [1e-15, 1-1e-15].
func LogLoss(y, p []float64) (float64, error) {
	if _, err := checkInput(y, p); err != nil {
		return 0, fmt.Errorf("log loss: %w", err)
	}
	var s float64
	for i := range y {
		q := min(max(p[i], logLossEps), 1-logLossEps)
		if y[i] == 1 {
			s -= math.Log(q)
		} else {
			s -= math.Log1p(-q)
		}
	}
	return s / float64(len(y)), nil
}
