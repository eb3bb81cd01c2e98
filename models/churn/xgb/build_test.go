package xgb

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestBothBuildsCompile builds and vets the package with and without the
// noxgboost tag; the noxgboost build runs with cgo off to show it needs no
// libxgboost at all.
func TestBothBuildsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, tc := range []struct {
		name string
		args []string
		cgo  string
	}{
		{"cgo build", []string{"build", "."}, "1"},
		{"noxgboost build without cgo", []string{"build", "-tags", "noxgboost", "."}, "0"},
		{"noxgboost vet", []string{"vet", "-tags", "noxgboost", "."}, "0"},
	} {
		cmd := exec.Command(goTool, tc.args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+tc.cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", tc.name, err, out)
		}
	}
}
