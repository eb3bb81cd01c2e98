package churn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Model file identification.
const (
	modelFormat  = "parcours-churn-model"
	modelVersion = 1
)

// modelFile is the saved model: one JSON document naming the algorithm,
// the features, the table encoding and the algorithm's fitted state
// (standardisation and coefficients, trees, XGBoost's own booster bytes
// in base64, or baseline bins), parameters included.
type modelFile struct {
	Format    string         `json:"format"`
	Version   int            `json:"version"`
	Algorithm string         `json:"algorithm"`
	Features  []string       `json:"features"`
	Encoding  *Encoding      `json:"encoding,omitempty"`
	Training  TrainingInfo   `json:"training"`
	LogReg    *logRegState   `json:"logreg,omitempty"`
	XGBoost   *xgbState      `json:"xgboost,omitempty"`
	Forest    *forestState   `json:"forest,omitempty"`
	Baseline  *baselineState `json:"baseline,omitempty"`
}

// MarshalBinary returns the model file's bytes (JSON).
func (m *Model) MarshalBinary() ([]byte, error) {
	f := modelFile{
		Format: modelFormat, Version: modelVersion, Algorithm: m.Algorithm,
		Features: m.Features, Encoding: m.Encoding, Training: m.Training,
	}
	switch s := m.s.(type) {
	case *logRegState:
		f.LogReg = s
	case *xgbScorer:
		st, err := s.state()
		if err != nil {
			return nil, fmt.Errorf("save %s model: %w", m.Algorithm, err)
		}
		f.XGBoost = st
	case *forestState:
		f.Forest = s
	case *baselineState:
		f.Baseline = s
	default:
		return nil, fmt.Errorf("save %s model: unknown scorer %T", m.Algorithm, m.s)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("save %s model: %w", m.Algorithm, err)
	}
	return b, nil
}

// Save writes the model file to w.
func (m *Model) Save(w io.Writer) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("save %s model: %w", m.Algorithm, err)
	}
	return nil
}

// SaveFile writes the model file to path through a temporary file in the
// same folder and a rename, so a reader never sees half a model.
func (m *Model) SaveFile(path string) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".churn-model-*")
	if err != nil {
		return fmt.Errorf("save %s model: %w", m.Algorithm, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save %s model: %w", m.Algorithm, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save %s model: %w", m.Algorithm, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save %s model: %w", m.Algorithm, err)
	}
	return nil
}

// UnmarshalModel reads a model from the bytes of a model file.
func UnmarshalModel(b []byte) (*Model, error) {
	var f modelFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("load churn model: %w", err)
	}
	if f.Format != modelFormat {
		return nil, fmt.Errorf("load churn model: format %q, want %q", f.Format, modelFormat)
	}
	if f.Version != modelVersion {
		return nil, fmt.Errorf("load churn model: version %d, this build reads %d", f.Version, modelVersion)
	}
	if len(f.Features) == 0 {
		return nil, fmt.Errorf("load churn model: no features")
	}
	if f.Encoding != nil && !equalStrings(f.Encoding.Features(), f.Features) {
		return nil, fmt.Errorf("load churn model: encoding features do not match model features")
	}
	m := &Model{Algorithm: f.Algorithm, Features: f.Features, Encoding: f.Encoding, Training: f.Training}
	p := len(f.Features)
	var err error
	switch f.Algorithm {
	case AlgoLogReg:
		if f.LogReg == nil || len(f.LogReg.Coef) != p || len(f.LogReg.Means) != p || len(f.LogReg.Scales) != p {
			return nil, fmt.Errorf("load churn model: logreg state missing or not for %d features", p)
		}
		m.s = f.LogReg
	case AlgoXGBoost:
		if f.XGBoost == nil {
			return nil, fmt.Errorf("load churn model: xgboost state missing")
		}
		if m.s, err = f.XGBoost.scorer(p); err != nil {
			return nil, fmt.Errorf("load churn model: %w", err)
		}
	case AlgoForest:
		if f.Forest == nil || len(f.Forest.Means) != p || len(f.Forest.Trees) == 0 {
			return nil, fmt.Errorf("load churn model: forest state missing or not for %d features", p)
		}
		if err := f.Forest.check(p); err != nil {
			return nil, fmt.Errorf("load churn model: %w", err)
		}
		m.s = f.Forest
	case AlgoBaseline:
		b := f.Baseline
		if b == nil || b.Column < 0 || b.Column >= p || len(b.Rates) != len(b.Cuts)+1 {
			return nil, fmt.Errorf("load churn model: recency baseline state missing or inconsistent")
		}
		m.s = b
	default:
		return nil, fmt.Errorf("load churn model: unknown algorithm %q", f.Algorithm)
	}
	return m, nil
}

// LoadModel reads a model file from r.
func LoadModel(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("load churn model: %w", err)
	}
	return UnmarshalModel(b)
}

// LoadModelFile reads the model file at path.
func LoadModelFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load churn model: %w", err)
	}
	return UnmarshalModel(b)
}

// check verifies that every tree is well formed for p features, so that a
// damaged file fails here rather than panicking while scoring.
func (s *forestState) check(p int) error {
	for t, tr := range s.Trees {
		n := len(tr.Feature)
		if n == 0 || len(tr.Threshold) != n || len(tr.Left) != n || len(tr.Right) != n || len(tr.Vote) != n {
			return fmt.Errorf("forest tree %d: arrays of unequal length", t)
		}
		for i := range n {
			if tr.Feature[i] < -1 || tr.Feature[i] >= p {
				return fmt.Errorf("forest tree %d node %d: feature %d out of range", t, i, tr.Feature[i])
			}
			// Children come after their parent, so every walk ends.
			if tr.Feature[i] >= 0 && (tr.Left[i] <= i || tr.Left[i] >= n || tr.Right[i] <= i || tr.Right[i] >= n) {
				return fmt.Errorf("forest tree %d node %d: bad children", t, i)
			}
		}
		for _, j := range tr.Uses {
			if j < 0 || j >= p {
				return fmt.Errorf("forest tree %d: feature %d out of range", t, j)
			}
		}
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
