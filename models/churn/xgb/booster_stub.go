//go:build noxgboost

package xgb

import "context"

// Booster stands in for the XGBoost model in builds without XGBoost; no
// value of it is ever returned.
type Booster struct{}

// Version reports that XGBoost is not linked.
func Version() string { return "none (built with tag noxgboost)" }

// Train returns ErrUnavailable: this build has no XGBoost.
func Train(_ context.Context, _ []float64, _, _ int, _ []float64, _ Params) (*Booster, error) {
	return nil, ErrUnavailable
}

// TrainValidated returns ErrUnavailable: this build has no XGBoost.
func TrainValidated(_ context.Context, _ []float64, _, _ int, _ []float64, _ Set, _ Params) (*Booster, Stopping, error) {
	return nil, Stopping{}, ErrUnavailable
}

// Load returns ErrUnavailable: this build has no XGBoost.
func Load(_ []byte, _ int) (*Booster, error) { return nil, ErrUnavailable }

// Features returns 0.
func (b *Booster) Features() int { return 0 }

// Predict returns ErrUnavailable.
func (b *Booster) Predict(_ []float64, _, _ int, _ Kind) ([]float64, error) {
	return nil, ErrUnavailable
}

// Save returns ErrUnavailable.
func (b *Booster) Save() ([]byte, error) { return nil, ErrUnavailable }

// Rounds returns ErrUnavailable.
func (b *Booster) Rounds() (int, error) { return 0, ErrUnavailable }

// Close does nothing.
func (b *Booster) Close() error { return nil }
