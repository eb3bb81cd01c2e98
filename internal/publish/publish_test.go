package publish

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A killed run's temp file is swept; one another warehouse's run is
// writing into the same folder right now is left alone.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for name, age := range map[string]time.Duration{".report-a.html.1.tmp": 2 * SweepAge, ".report-b.html.2.tmp": time.Minute, "report-c.html": 3 * SweepAge} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Sweep(dir, ".report-*.tmp", now)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	for name, want := range map[string]bool{".report-a.html.1.tmp": false, ".report-b.html.2.tmp": true, "report-c.html": true} {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}
}
