package cluster

import "fmt"

// Scaler standardises features to z-scores, (x - mean)/sd, keeping the
// means and standard deviations it was fitted with so that later points
// (tomorrow's customers) are placed on the same scale.
type Scaler struct {
	Means []float64 `json:"means"`
	// SDs are population standard deviations; a constant feature has SD 0
	// and is mapped to 0.
	SDs []float64 `json:"sds"`
}

// FitScaler computes the means and standard deviations of the columns.
func FitScaler(points [][]float64) (Scaler, error) {
	if _, err := checkPoints(points); err != nil {
		return Scaler{}, fmt.Errorf("fit scaler: %w", err)
	}
	means, sds := featureMoments(points)
	return Scaler{Means: means, SDs: sds}, nil
}

// Transform returns standardised copies of points.
func (s Scaler) Transform(points [][]float64) ([][]float64, error) {
	out := make([][]float64, len(points))
	for i, p := range points {
		z, err := s.TransformPoint(p)
		if err != nil {
			return nil, fmt.Errorf("point %d: %w", i, err)
		}
		out[i] = z
	}
	return out, nil
}

// TransformPoint returns the standardised copy of one point.
func (s Scaler) TransformPoint(p []float64) ([]float64, error) {
	if len(p) != len(s.Means) || len(s.SDs) != len(s.Means) {
		return nil, fmt.Errorf("scale: point has %d features, scaler %d", len(p), len(s.Means))
	}
	z := make([]float64, len(p))
	for j, v := range p {
		if s.SDs[j] > 0 {
			z[j] = (v - s.Means[j]) / s.SDs[j]
		}
	}
	return z, nil
}
