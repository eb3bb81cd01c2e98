package report

import (
	"strings"
	"testing"

	"github.com/parcours/parcours/orchestration"
)

func TestStaleNote(t *testing.T) {
	ok := orchestration.JobState{Status: "succeeded"}
	tests := []struct {
		name         string
		id           string
		states       map[string]orchestration.JobState
		recordedOnly bool
		want         []string // "" wants no note
	}{
		{"no ledger", "models", nil, false, nil},
		{"all succeeded", "models", map[string]orchestration.JobState{"train": ok, "score": ok}, false, nil},
		{"a skip says why", "models", map[string]orchestration.JobState{"train": orchestration.JobState{Status: "skipped", Error: "no purchase up to 2026-11-22"}, "score": ok}, false,
			[]string{"train had nothing to do (no purchase up to 2026-11-22)"}},
		{"a failure says why", "attribution", map[string]orchestration.JobState{"attribution": {Status: "failed", Error: "boom"}}, false,
			[]string{"attribution failed (boom)"}},
		{"a job that did not run", "segments", map[string]orchestration.JobState{"train": ok}, false, []string{"segments has not run for 2026-11-22"}},
		{"a merged warehouse does not judge the shards' jobs", "quality", map[string]orchestration.JobState{"report": ok}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := staleNote(tt.id, "2026-11-22", tt.states, tt.recordedOnly)
			if len(tt.want) == 0 && got != "" {
				t.Fatalf("note %q, want none", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("note %q lacks %q", got, w)
				}
			}
		})
	}
}
