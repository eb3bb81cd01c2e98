package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Seven nights that restitch only what each night touched leave every
// table as seven nights that restitch the whole identity graph, and the
// map passes `identity rebuild --check`.
func TestIncrementalNightsEqualFullRecomputation(t *testing.T) {
	data := dataset(t, 800, 30, 9)
	last, err := time.Parse(time.DateOnly, lastDate(t, data))
	if err != nil {
		t.Fatal(err)
	}
	from, to := last.AddDate(0, 0, -6).Format(time.DateOnly), last.Format(time.DateOnly)

	inc := filepath.Join(t.TempDir(), "incremental")
	mustCLI(t, "backfill", "--from", from, "--to", to, "--input", data, "--warehouse", inc)

	full := filepath.Join(t.TempDir(), "full")
	if err := os.MkdirAll(full, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := copyKeyFile(inc, full); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "parcours.yaml")
	if err := os.WriteFile(cfg, []byte("full_recompute: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "backfill", "--config", cfg, "--from", from, "--to", to, "--input", data, "--warehouse", full)

	// The nights after the first (a catch-up on an empty map) were
	// incremental in one warehouse, full in the other.
	q := "SELECT string_agg(CAST(detail->>'full_stitch' AS VARCHAR), ' ' ORDER BY logical_date) FROM ops.job_runs WHERE job = 'identity' AND status = 'succeeded'"
	if got := queryCSV(t, inc, q)[0][0]; got != "1 0 0 0 0 0 0" {
		t.Errorf("incremental warehouse: full stitches %q, want 1 then 0 x6", got)
	}
	if got := queryCSV(t, full, q)[0][0]; got != "1 1 1 1 1 1 1" {
		t.Errorf("full warehouse: full stitches %q, want 1 x7", got)
	}
	ignore := []string{"_batch", "batch", "updated_at", "model_id"}
	a, b := tableChecksums(t, inc, ignore...), tableChecksums(t, full, ignore...)
	for _, skip := range nondeterministicTables() {
		delete(a, skip)
		delete(b, skip)
	}
	diffChecksums(t, "incremental vs full identity", a, b)
	mustCLI(t, "identity", "rebuild", "--check", "--warehouse", inc)
}
