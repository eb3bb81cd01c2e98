package report

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// sectionJobs are the jobs whose tables each section reads: when one of
// them did not succeed for the date, the section shows older data and says
// why (a failed model must not take the report down, nor pass unseen).
var sectionJobs = map[string][]string{
	"kpis":        {"cold", "kpis"},
	"funnel":      {"cold", "kpis"},
	"transitions": {"kpis"},
	"attribution": {"attribution"},
	"segments":    {"segments"},
	"models":      {"train", "score"},
	"quality":     {"ingest"},
	"privacy":     {"purge", "privacy_audit"},
}

// jobState is a job's latest attempt for the date in ops.job_runs.
type jobState struct {
	Status, Error string
}

// nightStates reads the latest attempt of every job for the date (an empty
// map when there is no ledger: a report rendered outside a run).
func nightStates(ctx context.Context, db Querier, day time.Time) (map[string]jobState, error) {
	out := map[string]jobState{}
	ok, err := tableExists(ctx, db, "ops.job_runs")
	if err != nil || !ok {
		return out, err
	}
	err = queryEach(ctx, db, `SELECT job, status, coalesce(error, '') FROM ops.job_runs WHERE logical_date = ?
QUALIFY row_number() OVER (PARTITION BY job ORDER BY attempt DESC, started_at DESC) = 1`, []any{day},
		func(r *sql.Rows) error {
			var job string
			var st jobState
			if err := r.Scan(&job, &st.Status, &st.Error); err != nil {
				return err
			}
			out[job] = st
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read ops.job_runs: %w", err)
	}
	return out, nil
}

// staleNote says why a section is not up to date for the date, or "" when
// every job it reads succeeded. states nil: no ledger to judge by;
// recordedOnly: a job without a row is not judged.
func staleNote(id, date string, states map[string]jobState, recordedOnly bool) string {
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
