package logging

import (
	"bytes"
	"strings"
	"testing"
)

// The console rounds numbers for people; JSON keeps them whole.
func TestConsoleRoundsNumbers(t *testing.T) {
	tests := []struct {
		format string
		want   []string
		not    []string
	}{
		{"console", []string{"duration_s=12.3", "roc_auc=0.837", "rows=120"}, []string{"12.345678", "0.83691"}},
		{"json", []string{`"duration_s":12.345678`, `"roc_auc":0.836912`}, nil},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		log := New(&b, tt.format, "info")
		log.Info().Float64("duration_s", 12.345678).Float64("roc_auc", 0.836912).Int("rows", 120).
			Str("step", "3/19").Str("job", "train").Msg("done")
		out := b.String()
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q lacks %q", tt.format, out, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(out, w) {
				t.Errorf("%s: %q has %q", tt.format, out, w)
			}
		}
		if tt.format == "console" && strings.Count(out, "3/19") != 1 {
			t.Errorf("console repeats the step: %q", out)
		}
	}
}
