package eval

import "fmt"

// Defaults used by Evaluate.
const (
	// CalibrationBins is the number of equal-width calibration bins.
	CalibrationBins = 10
	// ROCChartPoints caps the ROC points kept for charts.
	ROCChartPoints = 101
)

// Metrics is the evaluation of one set of predictions, ready for JSON.
type Metrics struct {
	Rows          int     `json:"rows"`
	Positives     int     `json:"positives"`
	PositiveRate  float64 `json:"positive_rate"`
	MeanPredicted float64 `json:"mean_predicted"`

	ROCAUC float64 `json:"roc_auc"`
	// PRAUC is the average precision.
	PRAUC float64 `json:"pr_auc"`

	TopDecileLift    float64      `json:"top_decile_lift"`
	TopDecileCapture float64      `json:"top_decile_capture"`
	LiftCurve        []DecileLift `json:"lift_curve"`

	Brier   float64 `json:"brier"`
	LogLoss float64 `json:"log_loss"`

	Calibration []CalibrationBin `json:"calibration"`
	// ROC holds at most ROCChartPoints points of the ROC curve.
	ROC []ROCPoint `json:"roc"`
}

// Evaluate computes every metric of the package for labels y (0/1) and
// predicted probabilities p. It fails when the inputs are invalid or hold
// a single class (ErrOneClass), since the rank metrics are then undefined.
func Evaluate(y, p []float64) (Metrics, error) {
	positives, err := checkBothClasses(y, p)
	if err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	m := Metrics{Rows: len(y), Positives: positives}
	m.PositiveRate = float64(positives) / float64(len(y))
	for _, v := range p {
		m.MeanPredicted += v
	}
	m.MeanPredicted /= float64(len(p))

	curve := roc(y, p)
	m.ROCAUC = rocArea(curve)
	m.ROC = downsample(curve, ROCChartPoints)
	if m.PRAUC, err = AveragePrecision(y, p); err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	if m.LiftCurve, err = LiftCurve(y, p); err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	m.TopDecileLift = m.LiftCurve[0].CumulativeLift
	m.TopDecileCapture = m.LiftCurve[0].CumulativeCapture
	if m.Brier, err = Brier(y, p); err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	if m.LogLoss, err = LogLoss(y, p); err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	if m.Calibration, err = Calibration(y, p, CalibrationBins); err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	return m, nil
}
