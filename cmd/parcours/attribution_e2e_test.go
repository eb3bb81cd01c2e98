package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `parcours attribution --paths` on a ChannelAttribution-format file: the
// heuristics equal the hand computation, every model credits all
// conversions, and a bad number names its line and column.
func TestAttributionCommand(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "paths.csv")
	// A > B > C converts once (value 4), A > C once (4), B once (4) and once not, C never (1 null).
	// linear: A = 1/3 + 1/2 = 5/6, B = 1/3 + 1 = 4/3, C = 1/3 + 1/2 = 5/6.
	// first touch: A 2, B 1; last touch: C 2, B 1.
	body := "path;total_conversions;total_conversion_value;total_null\nA > B > C;1;4;0\nA > C;1;4;0\nB;1;4;1\nC;0;0;1\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "attribution", "--paths", p, "--delim", ";", "--json").stdout
	var res struct {
		Total  float64                                  `json:"total_conversions"`
		Models map[string]map[string]map[string]float64 `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]map[string]float64{
		"linear":      {"A": 5.0 / 6, "B": 4.0 / 3, "C": 5.0 / 6},
		"first_touch": {"A": 2, "B": 1, "C": 0},
		"last_touch":  {"A": 0, "B": 1, "C": 2},
	}
	for m, chans := range want {
		for ch, v := range chans {
			if got := res.Models[m][ch]["conversions"]; math.Abs(got-v) > 1e-12 {
				t.Errorf("%s %s = %v, want %v", m, ch, got, v)
			}
		}
	}
	if len(res.Models) < 9 {
		t.Errorf("%d models, want heuristics, Markov 1-3 and two Shapley", len(res.Models))
	}
	for m, chans := range res.Models {
		sum := 0.0
		for _, c := range chans {
			sum += c["conversions"]
		}
		if math.Abs(sum-res.Total) > 1e-9 {
			t.Errorf("%s credits %v conversions of %v", m, sum, res.Total)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("path,total_conversions\nA > B,1\nB,many\n"), 0o644)
	r := cli(t, nil, "attribution", "--paths", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "line 3") || !strings.Contains(r.stderr, "total_conversions") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}
