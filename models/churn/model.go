package churn

import (
	"context"
	"fmt"
)

// scorer is what each algorithm provides to Model, on matrices whose
// columns already match the model's features.
type scorer interface {
	// predict returns one probability per row.
	predict(ctx context.Context, x *Matrix) ([]float64, error)
	// contributions returns per-feature log-odds contributions and a bias
	// per row.
	contributions(ctx context.Context, x *Matrix) (*Contributions, error)
	// additive tells whether contributions plus bias equal the log-odds of
	// predict exactly.
	additive() bool
	// close releases native resources.
	close() error
}

// TrainingInfo records what a model was trained on.
type TrainingInfo struct {
	Rows      int `json:"rows"`
	Positives int `json:"positives"`
	// ValidationRows were held out of Rows' data to stop boosting early.
	ValidationRows int `json:"validation_rows,omitempty"`
}

// Model is a fitted churn model: it predicts churn probabilities, explains
// them per feature, and saves itself (see Save and LoadModel). A Model is
// safe for concurrent scoring. Close frees native memory (XGBoost).
type Model struct {
	// Algorithm is one of the Algo constants.
	Algorithm string
	// Features are the feature names, in the order the model uses them.
	Features []string
	// Encoding is the table encoding from PrepareTable, or nil.
	Encoding *Encoding
	// Training describes the training data.
	Training TrainingInfo

	s scorer
}

// Contributions splits each row's log-odds score into one value per
// feature plus a bias.
type Contributions struct {
	// Features names the columns of Values.
	Features []string
	// Rows is the number of rows.
	Rows int
	// Values holds Rows × len(Features) contributions, row-major.
	Values []float64
	// Bias holds the part of each row's log-odds not attributed to a feature.
	Bias []float64
	// Additive is true when, for every row, the values plus the bias equal
	// the model's log-odds (logreg, xgboost, baseline); the forest's
	// one-at-a-time contributions are not additive.
	Additive bool
}

// Row returns the contributions of row i (sharing storage).
func (c *Contributions) Row(i int) []float64 {
	k := len(c.Features)
	return c.Values[i*k : (i+1)*k : (i+1)*k]
}

func newModel(algo string, ds *Dataset, s scorer) *Model {
	return &Model{
		Algorithm: algo,
		Features:  append([]string(nil), ds.X.Names...),
		Encoding:  ds.Encoding,
		Training:  TrainingInfo{Rows: ds.X.Rows, Positives: ds.Positives()},
		s:         s,
	}
}

// Predict returns the churn probability of every row of x. The columns of
// x are matched to the model's features by name (extra columns ignored).
func (m *Model) Predict(ctx context.Context, x *Matrix) ([]float64, error) {
	a, err := x.aligned(m.Features)
	if err != nil {
		return nil, fmt.Errorf("predict %s: %w", m.Algorithm, err)
	}
	p, err := m.s.predict(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("predict %s: %w", m.Algorithm, err)
	}
	return p, nil
}

// Contributions explains every row of x on the log-odds scale (see the
// learners for the method each uses).
func (m *Model) Contributions(ctx context.Context, x *Matrix) (*Contributions, error) {
	a, err := x.aligned(m.Features)
	if err != nil {
		return nil, fmt.Errorf("contributions %s: %w", m.Algorithm, err)
	}
	c, err := m.s.contributions(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("contributions %s: %w", m.Algorithm, err)
	}
	c.Additive = m.s.additive()
	return c, nil
}

// Close frees the model's native memory; the model must not be used after.
func (m *Model) Close() error {
	if err := m.s.close(); err != nil {
		return fmt.Errorf("close %s model: %w", m.Algorithm, err)
	}
	return nil
}
