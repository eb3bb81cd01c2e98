package clv

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// modelFormat names the JSON layout written by Save, so that Load can refuse
// files from a future, incompatible layout instead of misreading them.
const modelFormat = "parcours.clv.v1"

// Model is a fitted BG/NBD purchase model with a Gamma-Gamma spend model, in
// the time unit of the summaries it was fitted on.
type Model struct {
	TimeUnit TimeUnit `json:"time_unit"`
	// BGNBD is the BG/NBD fit (zero when it did not converge).
	BGNBD BGNBDFit `json:"bgnbd"`
	// NBD, when set, is the purchase model in use instead of BG/NBD: the
	// BG/NBD fit did not converge or did not identify its parameters, and
	// Reduced says why in words.
	NBD        *NBDFit       `json:"nbd,omitempty"`
	Reduced    string        `json:"reduced,omitempty"`
	GammaGamma GammaGammaFit `json:"gamma_gamma"`
}

// PurchaseModel is what scoring asks of a purchase model (BG/NBD or NBD).
type PurchaseModel interface {
	ProbAlive(c Customer) (float64, error)
	ConditionalExpectedPurchases(c Customer, t float64) (float64, error)
}

// Purchases is the purchase model in use.
func (m *Model) Purchases() PurchaseModel {
	if m.NBD != nil {
		return m.NBD.Params
	}
	return m.BGNBD.Params
}

// Identified reports whether the purchase model in use has standard
// errors (its observed information is positive definite), and if not why.
func (m *Model) Identified() (bool, string) {
	if m.NBD != nil {
		if m.NBD.SE == nil {
			return false, "the NBD parameters are not identified either: the observed information matrix is not positive definite"
		}
		return true, ""
	}
	if m.BGNBD.SE == nil {
		return false, "the BG/NBD parameters are not identified: the observed information matrix is not positive definite"
	}
	return true, ""
}

// Fit fits both models to calibration summaries measured in unit: BG/NBD on
// every customer, Gamma-Gamma on those with repeat purchases.
func Fit(ctx context.Context, customers []Customer, unit TimeUnit) (*Model, error) {
	if _, err := unit.LengthInDays(); err != nil {
		return nil, fmt.Errorf("fit clv: %w", err)
	}
	customers = canonicalOrder(customers)
	bg, err := FitBGNBD(ctx, customers)
	var reduced string
	switch {
	case errors.Is(err, ErrNotConverged):
		reduced = "the BG/NBD fit did not converge from any start"
		bg = BGNBDFit{}
	case err != nil:
		return nil, fmt.Errorf("fit clv: %w", err)
	default:
		reduced = bg.Unidentified()
	}
	gg, err := FitGammaGamma(ctx, customers)
	if err != nil {
		return nil, fmt.Errorf("fit clv: %w", err)
	}
	m := &Model{TimeUnit: unit, BGNBD: bg, GammaGamma: gg}
	if reduced != "" {
		// Fall back to the model the data do identify rather than keep a
		// silent candidate: without visible dropout, BG/NBD is NBD.
		nbd, err := FitNBD(ctx, customers)
		if err != nil {
			return nil, fmt.Errorf("fit clv: %s, and the reduced NBD model: %w", reduced, err)
		}
		m.NBD, m.Reduced = &nbd, reduced+": fitted the NBD model instead (BG/NBD without dropout: every customer stays active at their own rate)"
	}
	return m, nil
}

// HoldoutCheck predicts each holdout customer's purchases with the
// purchase model in use (see BGNBDParams.HoldoutCheck).
func (m *Model) HoldoutCheck(ctx context.Context, h Holdout) ([]HoldoutRow, error) {
	return holdoutCheck(ctx, m.Purchases(), h)
}

// Save writes the model as indented JSON.
func (m *Model) Save(w io.Writer) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("save clv model: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	file := struct {
		Format string `json:"format"`
		*Model
	}{modelFormat, m}
	if err := enc.Encode(file); err != nil {
		return fmt.Errorf("save clv model: %w", err)
	}
	return nil
}

// Load reads a model written by Save and checks that it is usable.
func Load(r io.Reader) (*Model, error) {
	var file struct {
		Format string `json:"format"`
		Model
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("load clv model: %w", err)
	}
	if file.Format != modelFormat {
		return nil, fmt.Errorf("load clv model: format %q, want %q", file.Format, modelFormat)
	}
	m := file.Model
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("load clv model: %w", err)
	}
	return &m, nil
}

func (m *Model) validate() error {
	if _, err := m.TimeUnit.LengthInDays(); err != nil {
		return err
	}
	if m.NBD != nil {
		if err := m.NBD.Params.validate(); err != nil {
			return err
		}
	} else if err := m.BGNBD.Params.validate(); err != nil {
		return err
	}
	return m.GammaGamma.Params.validate()
}

// canonicalOrder sorts a copy of the customers by what the likelihood
// reads of them (x, t_x, T, mean value), not by ID: the log-likelihood is a
// floating-point sum whose last bits follow the order of its terms, and the
// optimiser's path and stopping decisions follow those bits. IDs are
// pseudonyms (keyed by a secret pepper), so ordering by them would make a
// fit depend on the pepper; customers equal in every field are
// interchangeable, so this order is a function of the data alone.
func canonicalOrder(customers []Customer) []Customer {
	out := slices.Clone(customers)
	slices.SortStableFunc(out, func(a, b Customer) int {
		return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.TX, b.TX), cmp.Compare(a.T, b.T), cmp.Compare(a.MeanValue, b.MeanValue))
	})
	return out
}
