package churn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/parcours/parcours/models/churn/xgb"
)

// autoTable draws n rows of 4 features. linear: the log-odds are a sum of
// the features (logistic regression's own model). xor: churn when x1 and
// x2 have the same sign (no linear signal; trees find it).
func autoTable(t *testing.T, n int, shape string, seed uint64) *Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	names := []string{"x1", "x2", "x3", "x4"}
	data := make([]float64, 0, n*4)
	y := make([]float64, n)
	ids := make([]string, n)
	for i := range n {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		data = append(data, x...)
		var logit float64
		if shape == "linear" {
			logit = 1.2*x[0] - 0.8*x[1] + 0.5*x[2]
		} else if x[0]*x[1] > 0 {
			logit = 2.5
		} else {
			logit = -2.5
		}
		if rng.Float64() < 1/(1+math.Exp(-logit)) {
			y[i] = 1
		}
		ids[i] = fmt.Sprint(i)
	}
	m, err := MatrixFromRows(names, data)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := NewDataset(m, y, ids)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// Auto picks the learner that fits the table's shape, by cross-validation
// on the training rows, and the model it returns is that learner's.
func TestAutoChoosesByCrossValidation(t *testing.T) {
	tests := []struct{ shape, want string }{{"linear", AlgoLogReg}, {"xor", AlgoXGBoost}}
	for _, tt := range tests {
		t.Run(tt.shape, func(t *testing.T) {
			ds := autoTable(t, 3000, tt.shape, 7)
			a := &Auto{Folds: 3, Seed: 5}
			m, err := a.Fit(t.Context(), ds)
			if errors.Is(err, xgb.ErrUnavailable) || (err == nil && a.Chosen.Note != "") {
				t.Skip("built without XGBoost")
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			t.Logf("cv ROC AUC %v", a.Chosen.MeanAUC)
			if a.Chosen.Algorithm != tt.want || m.Algorithm != tt.want {
				t.Errorf("chose %s (model %s), want %s; cv %v", a.Chosen.Algorithm, m.Algorithm, tt.want, a.Chosen.MeanAUC)
			}
			if len(a.Chosen.MeanAUC) != 2 {
				t.Errorf("cv results %v", a.Chosen.MeanAUC)
			}
		})
	}
}

func TestStratifiedFolds(t *testing.T) {
	y := make([]float64, 100)
	for i := range 30 {
		y[i] = 1
	}
	folds := stratifiedFolds(y, 3, 1)
	seen := map[int]bool{}
	for _, f := range folds {
		pos := 0
		for _, i := range f {
			if seen[i] {
				t.Fatalf("row %d in two folds", i)
			}
			seen[i] = true
			pos += int(y[i])
		}
		if pos < 9 || pos > 11 || len(f) < 33 || len(f) > 34 {
			t.Errorf("fold of %d rows with %d positives", len(f), pos)
		}
	}
	if len(seen) != 100 {
		t.Fatalf("%d rows in the folds", len(seen))
	}
}
