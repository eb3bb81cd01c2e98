package churn

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// tinyDataset is 600 planted customers, enough for every learner.
func tinyDataset(t testing.TB) *Dataset {
	t.Helper()
	ds, _, err := PrepareTable(genTable(600, 31).cols, TableOptions{Label: "churned", ID: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestSaveLoadScoresBitForBit(t *testing.T) {
	ds := tinyDataset(t)
	xgbSmall := DefaultXGBoost()
	xgbSmall.Params.Rounds = 20
	learners := []Learner{
		DefaultLogReg(),
		xgbSmall,
		Forest{Trees: 15, MaxRows: 400, Seed: 5},
		Baseline{RecencyFeature: recencyName},
	}
	ctx := context.Background()
	for _, l := range learners {
		t.Run(l.Algorithm(), func(t *testing.T) {
			if l.Algorithm() == AlgoXGBoost && !haveXGBoost {
				t.Skip("built without XGBoost")
			}
			m, err := l.Fit(ctx, ds)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			path := filepath.Join(t.TempDir(), "model.json")
			if err := m.SaveFile(path); err != nil {
				t.Fatal(err)
			}
			loaded, err := LoadModelFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer loaded.Close()
			if loaded.Algorithm != l.Algorithm() || strings.Join(loaded.Features, ",") != strings.Join(m.Features, ",") ||
				loaded.Training != m.Training || loaded.Encoding == nil || len(loaded.Encoding.Columns) != 20 {
				t.Errorf("loaded header %s %v %+v", loaded.Algorithm, loaded.Features, loaded.Training)
			}
			p1, err := m.Predict(ctx, ds.X)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := loaded.Predict(ctx, ds.X)
			if err != nil {
				t.Fatal(err)
			}
			for i := range p1 {
				if math.Float64bits(p1[i]) != math.Float64bits(p2[i]) {
					t.Fatalf("row %d: %v saved, %v loaded", i, p1[i], p2[i])
				}
			}
			c1, err := m.Contributions(ctx, ds.X)
			if err != nil {
				t.Fatal(err)
			}
			c2, err := loaded.Contributions(ctx, ds.X)
			if err != nil {
				t.Fatal(err)
			}
			for k := range c1.Values {
				if math.Float64bits(c1.Values[k]) != math.Float64bits(c2.Values[k]) {
					t.Fatalf("contribution %d: %v saved, %v loaded", k, c1.Values[k], c2.Values[k])
				}
			}
			for i := range c1.Bias {
				if math.Float64bits(c1.Bias[i]) != math.Float64bits(c2.Bias[i]) {
					t.Fatalf("bias %d differs", i)
				}
			}
			if c1.Additive {
				for i := range ds.X.Rows {
					sum := c1.Bias[i]
					for _, v := range c1.Row(i) {
						sum += v
					}
					// XGBoost works in float32.
					if math.Abs(sum-logit(p1[i])) > 1e-4 {
						t.Fatalf("row %d: contributions sum to %v, log-odds %v", i, sum, logit(p1[i]))
					}
				}
			}
			// Saving the loaded model gives the same bytes.
			b1, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b2, err := loaded.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Error("re-saving a loaded model changed its bytes")
			}
		})
	}
}

func TestLoadRejectsDamagedFiles(t *testing.T) {
	ds := tinyDataset(t)
	m, err := DefaultLogReg().Fit(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"format", `"format":"parcours-churn-model"`, `"format":"other"`, "format"},
		{"version", `"version":1`, `"version":9`, "version 9"},
		{"algorithm", `"algorithm":"logreg"`, `"algorithm":"svm"`, `unknown algorithm "svm"`},
		{"unknown field", `"training"`, `"trainin"`, "unknown field"},
		{"truncated coefficients", `"coefficients":[`, `"coefficients":[1,`, "logreg state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			if bad == string(good) {
				t.Fatalf("%q not in the file", tc.from)
			}
			if _, err := LoadModel(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
