package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
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

// Steps logs each step with the time since the one before, at debug level.
func TestSteps(t *testing.T) {
	for _, level := range []string{"debug", "info"} {
		var b bytes.Buffer
		lap := Steps(New(&b, "json", level).With().Str("job", "purge").Str("step", "9/19").Logger(), "purge step")
		lap("erasure")
		time.Sleep(20 * time.Millisecond)
		lap("consent purge")
		var got []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if line == "" {
				continue
			}
			if strings.Count(line, `"step":`) != 1 {
				t.Errorf("line %s: the key step twice", line)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		if level == "info" {
			if len(got) != 0 {
				t.Errorf("info level: %v, want nothing", got)
			}
			continue
		}
		if len(got) != 2 || got[0]["phase"] != "erasure" || got[1]["phase"] != "consent purge" || got[1]["step"] != "9/19" || got[1]["message"] != "purge step" {
			t.Fatalf("lines %v", got)
		}
		if s := got[1]["took_s"].(float64); s < 0.02 || s > got[0]["took_s"].(float64)+5 {
			t.Errorf("took_s %v: the time since the step before", s)
		}
	}
}
