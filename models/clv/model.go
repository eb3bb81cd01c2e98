package clv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// modelFormat names the JSON layout written by Save, so that Load can refuse
// files from a future, incompatible layout instead of misreading them.
const modelFormat = "parcours.clv.v1"

// Model is a fitted BG/NBD purchase model with a Gamma-Gamma spend model, in
// the time unit of the summaries it was fitted on.
type Model struct {
	TimeUnit   TimeUnit      `json:"time_unit"`
	BGNBD      BGNBDFit      `json:"bgnbd"`
	GammaGamma GammaGammaFit `json:"gamma_gamma"`
}

// Fit fits both models to calibration summaries measured in unit: BG/NBD on
// every customer, Gamma-Gamma on those with repeat purchases.
func Fit(ctx context.Context, customers []Customer, unit TimeUnit) (*Model, error) {
	if _, err := unit.LengthInDays(); err != nil {
		return nil, fmt.Errorf("fit clv: %w", err)
	}
	bg, err := FitBGNBD(ctx, customers)
	if err != nil {
		return nil, fmt.Errorf("fit clv: %w", err)
	}
	gg, err := FitGammaGamma(ctx, customers)
	if err != nil {
		return nil, fmt.Errorf("fit clv: %w", err)
	}
	return &Model{TimeUnit: unit, BGNBD: bg, GammaGamma: gg}, nil
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
	if err := m.BGNBD.Params.validate(); err != nil {
		return err
	}
	return m.GammaGamma.Params.validate()
}
