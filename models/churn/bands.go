package churn

import "fmt"

// Risk bands.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

// Bands cuts probabilities into risk bands: p >= High is "high", p >=
// Medium is "medium", anything lower is "low".
type Bands struct {
	Medium float64 `json:"medium"`
	High   float64 `json:"high"`
}

// DefaultBands returns cut points 0.3 and 0.6.
func DefaultBands() Bands { return Bands{Medium: 0.3, High: 0.6} }

// Validate requires 0 < Medium <= High <= 1.
func (b Bands) Validate() error {
	if !(b.Medium > 0 && b.Medium <= b.High && b.High <= 1) {
		return fmt.Errorf("risk bands: need 0 < medium (%v) <= high (%v) <= 1", b.Medium, b.High)
	}
	return nil
}

// Band returns the band of probability p.
func (b Bands) Band(p float64) string {
	switch {
	case p >= b.High:
		return RiskHigh
	case p >= b.Medium:
		return RiskMedium
	}
	return RiskLow
}
