package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/parcours/parcours/internal/warehouse"
)

// fixedKeys give two warehouses the same pepper and master key, so their
// customer keys, and every table keyed by them, can be compared.
var fixedKeys = []string{
	"PARCOURS_PEPPER=" + "cGVwcGVyLXBlcHBlci1wZXBwZXItcGVwcGVyLXBlcHA=",
	"PARCOURS_MASTER_KEY=" + "bWFzdGVyLW1hc3Rlci1tYXN0ZXItbWFzdGVyLW1hc3Q=",
}

const sourcesGolden = "testdata/default_sources.golden.json"

// The built-in sources (our generator's files) give exactly the
// warehouse they gave before sources became configuration: every table's
// checksum, under fixed keys, equals the golden recorded then. Regenerate
// (PARCOURS_UPDATE_GOLDEN=1) only for a change meant to alter the tables.
func TestDefaultSourcesGolden(t *testing.T) {
	data := dataset(t, 3000, 365, 21) // a year: models, scores, attribution (shared with TestNightlyTrainsAndScores)
	wh := filepath.Join(t.TempDir(), "wh")
	r := cli(t, fixedKeys, "run", "nightly", "--date", lastDate(t, data), "--input", data, "--warehouse", wh)
	if r.code != 0 {
		t.Fatalf("nightly: exit %d\n%s", r.code, tail(r.stderr, 20))
	}
	// Columns added since the golden was recorded: where a row came from
	// and what it carries (_source, _fact, _ids, _filtered of the landing
	// tables) and how many rows a source's where kept out.
	got := tableChecksums(t, wh, "_batch", "batch", "updated_at", "model_id", "_source", "_fact", "_ids", "_filtered", "rows_filtered")
	for _, skip := range nondeterministicTables() {
		delete(got, skip)
	}
	if os.Getenv("PARCOURS_UPDATE_GOLDEN") == "1" {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(sourcesGolden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(sourcesGolden)
	if err != nil {
		t.Fatalf("%v (generate it with PARCOURS_UPDATE_GOLDEN=1)", err)
	}
	var want map[string]warehouse.Checksum
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range want {
		names = append(names, k)
	}
	sort.Strings(names)
	var diffs []string
	for _, k := range names {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing", k))
		case g != want[k]:
			diffs = append(diffs, fmt.Sprintf("%s: %+v, golden %+v", k, g, want[k]))
		}
	}
	for _, d := range diffs {
		t.Error(d)
	}
	if len(diffs) > 0 {
		b, _ := json.MarshalIndent(got, "", "  ")
		_ = os.WriteFile(sourcesGolden+".FAIL", append(b, '\n'), 0o644)
	}
}
