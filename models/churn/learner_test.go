package churn

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestNewLearner(t *testing.T) {
	for _, algo := range []string{AlgoLogReg, AlgoXGBoost, AlgoForest} {
		l, err := NewLearner(algo, 10)
		if err != nil || l.Algorithm() != algo {
			t.Errorf("NewLearner(%q) = %v, %v", algo, l, err)
		}
	}
	if l, err := NewLearner(AlgoAuto, 10); err != nil || l.Algorithm() != AlgoAuto {
		t.Errorf("NewLearner(auto) = %v, %v", l, err)
	}
	if l, _ := NewLearner(AlgoForest, 10); l.(Forest).Seed != 10 {
		t.Error("forest seed not set")
	}
	if _, err := NewLearner(AlgoBaseline, 1); err == nil || !strings.Contains(err.Error(), "RecencyFeature") {
		t.Errorf("baseline: %v", err)
	}
	if _, err := NewLearner("svm", 1); err == nil || !strings.Contains(err.Error(), `unknown learner "svm"`) {
		t.Errorf("unknown: %v", err)
	}
}

func TestMatrix(t *testing.T) {
	m, err := MatrixFromColumns([]string{"a", "b"}, [][]float64{{1, 2, 3}, {4, math.NaN(), 6}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 3 || m.At(1, 0) != 2 || !math.IsNaN(m.At(1, 1)) || m.At(2, 1) != 6 || m.Index("b") != 1 || m.Index("z") != -1 {
		t.Errorf("matrix %+v", m)
	}
	if got := m.Column(1); got[2] != 6 || len(got) != 3 {
		t.Errorf("column %v", got)
	}
	bad := []struct {
		name  string
		names []string
		data  []float64
	}{
		{"ragged", []string{"a", "b"}, []float64{1, 2, 3}},
		{"duplicate name", []string{"a", "a"}, []float64{1, 2}},
		{"empty name", []string{"a", ""}, []float64{1, 2}},
		{"infinity", []string{"a"}, []float64{math.Inf(-1)}},
	}
	for _, tc := range bad {
		if _, err := MatrixFromRows(tc.names, tc.data); err == nil {
			t.Errorf("%s accepted", tc.name)
		}
	}
	if _, err := NewDataset(m, []float64{0, 1, 0.5}, nil); err == nil {
		t.Error("label 0.5 accepted")
	}
	if _, err := NewDataset(m, []float64{0, 1}, nil); err == nil {
		t.Error("2 labels for 3 rows accepted")
	}
}

// TestBuildsWithoutXGBoost vets this package with the noxgboost tag and
// cgo off: the nightly job can build where libxgboost is absent.
func TestBuildsWithoutXGBoost(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, args := range [][]string{{"build", "-tags", "noxgboost", "."}, {"vet", "-tags", "noxgboost", "."}} {
		cmd := exec.Command(goTool, args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
