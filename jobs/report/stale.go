package report

import (
	"fmt"
	"strings"

	"github.com/parcours/parcours/orchestration"
)

// sectionJobs are the jobs whose tables each section reads: when one of
// them did not succeed for the date, the section shows older data and says
// why (a failed model must not take the report down, nor pass unseen).
var sectionJobs = map[string][]string{
	"glance":      {"kpis", "segments"},
	"kpis":        {"cold", "kpis"},
	"funnel":      {"cold", "kpis"},
	"transitions": {"kpis"},
	"attribution": {"attribution"},
	"segments":    {"segments"},
	"models":      {"train", "score"},
	"quality":     {"ingest"},
	"privacy":     {"purge", "privacy_audit"},
}

// staleNote says why a section is not up to date for the date, or "" when
// every job it reads succeeded, judging by the date's latest attempts in
// the run ledger (orchestration.Ledger.State). states nil: no ledger;
// recordedOnly: a job without a row is not judged.
func staleNote(id, date string, states map[string]orchestration.JobState, recordedOnly bool) string {
	if len(states) == 0 {
		return ""
	}
	var why []string
	for _, job := range sectionJobs[id] {
		st, ok := states[job]
		switch {
		case !ok && recordedOnly:
		case !ok:
			why = append(why, fmt.Sprintf("%s has not run for %s", job, date))
		case st.Status == "succeeded":
		case st.Status == "skipped":
			why = append(why, fmt.Sprintf("%s had nothing to do (%s)", job, clip(st.Error, 200)))
		case st.Status == "upstream_failed":
			why = append(why, fmt.Sprintf("%s did not run (%s)", job, clip(st.Error, 200)))
		default:
			why = append(why, fmt.Sprintf("%s %s (%s)", job, strings.ReplaceAll(st.Status, "_", " "), clip(st.Error, 200)))
		}
	}
	if len(why) == 0 {
		return ""
	}
	return "Not updated for " + date + ": " + strings.Join(why, "; ") + ". What is shown is the latest data these jobs left."
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	if s == "" {
		return "no reason given"
	}
	return s
}
