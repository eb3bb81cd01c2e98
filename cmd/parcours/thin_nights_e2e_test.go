package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/orchestration"
)

// A company's first nights are thin: one day of extracts, some files
// missing. Each such night exits 0, names every job it skipped and why,
// and still writes the cold export and the report. A night without an
// extract folder exits 99 with every job skipped.
func TestThinNights(t *testing.T) {
	base := dataset(t, 300, 1, 3)
	date := lastDate(t, base)
	single := dataset(t, 1, 1, 5)
	keep := func(names ...string) func(dir string) {
		return func(dir string) {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !slices.Contains(names, e.Name()) {
					if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	drop := func(names ...string) func(dir string) {
		return func(dir string) {
			for _, n := range names {
				if err := os.Remove(filepath.Join(dir, n)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	noPurchase := func(dir string) {
		drop("pos_transactions.csv", "app_events.parquet")(dir)
		p := filepath.Join(dir, "web_events.jsonl")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.Contains(line, `"purchase"`) {
				kept = append(kept, line)
			}
		}
		if err := os.WriteFile(p, []byte(strings.Join(kept, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// One day of the sample already has conversions to credit (a store
	// purchase's own visit is its touch): attribution runs; with no
	// purchase, or under k converting customers, it has nothing to credit.
	models := []string{"train", "score"}
	credits := append(models, "attribution")
	tests := []struct {
		name    string
		data    string
		damage  func(dir string)
		skipped []string // at least these, each with a reason
	}{
		{"one day of data", base, nil, models},
		{"no consents file", base, drop("consents.csv"), append(models, "segments")},
		{"no purchases", base, noPurchase, credits},
		{"purchases only, no sessions", base, drop("web_events.jsonl", "app_events.parquet", "email_events.csv", "callcenter_contacts.csv"), credits},
		{"a single customer", single, nil, append(credits, "segments")},
		{"store data only", base, keep("pos_transactions.csv", "stores.csv", "products.csv"), append(credits, "segments")},
		{"web data only", base, keep("web_events.jsonl"), append(credits, "segments")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := copyTree(t, tt.data)
			if tt.damage != nil {
				tt.damage(filepath.Join(data, date))
			}
			wh, exports := t.TempDir(), t.TempDir()
			sumPath := filepath.Join(t.TempDir(), "summary.json")
			r := cli(t, []string{"PARCOURS_EXPORT_DIR=" + exports}, "run", "nightly", "--date", date,
				"--input", data, "--warehouse", wh, "--summary-json", sumPath)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\n%s\n%s", r.code, tail(r.stdout, 25), tail(r.stderr, 10))
			}
			sum := readSummary(t, sumPath)
			for _, j := range sum.Jobs {
				switch j.Status {
				case orchestration.StatusSucceeded:
				case orchestration.StatusSkipped:
					if j.Reason == "" {
						t.Errorf("%s skipped without a reason", j.Job)
					}
				default:
					t.Errorf("%s: %s %s", j.Job, j.Status, j.Error)
				}
			}
			for _, job := range tt.skipped {
				if st := statusOf(sum, job); st != orchestration.StatusSkipped {
					t.Errorf("%s: %s, want skipped", job, st)
				}
			}
			if !strings.Contains(r.stdout, "skipped") {
				t.Errorf("the summary table does not show the skips:\n%s", r.stdout)
			}
			assertPublished(t, exports, date)
			// The report says which sections are not up to date, and why.
			html, err := os.ReadFile(filepath.Join(exports, "reports", "report-"+date+".html"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(html), `data-stale="models"`) || !strings.Contains(string(html), "had nothing to do") {
				t.Errorf("the report does not say the models are not up to date")
			}
		})
	}

	t.Run("no extract folder", func(t *testing.T) {
		t.Parallel()
		wh := t.TempDir()
		sumPath := filepath.Join(t.TempDir(), "summary.json")
		r := cli(t, nil, "run", "nightly", "--date", "2026-11-23", "--input", base, "--warehouse", wh, "--summary-json", sumPath)
		if r.code != orchestration.ExitNothingToDo {
			t.Fatalf("exit %d, want 99\n%s", r.code, tail(r.stdout, 25))
		}
		sum := readSummary(t, sumPath)
		if len(sum.Jobs) < 10 {
			t.Fatalf("summary lists %d jobs, want every job", len(sum.Jobs))
		}
		for _, j := range sum.Jobs {
			if j.Status != orchestration.StatusSkipped || !strings.Contains(j.Reason, "no extract folder") {
				t.Errorf("%s: %s %q, want skipped because there is no extract folder", j.Job, j.Status, j.Reason)
			}
		}
		// A scheduler running one job per task gets 99 for the later jobs too.
		if r := cli(t, nil, "run", "split", "--date", "2026-11-23", "--input", base, "--warehouse", wh); r.code != orchestration.ExitNothingToDo {
			t.Errorf("run split alone: exit %d, want 99\n%s", r.code, r.stdout)
		}
	})

	// A failed analytic job: the run exits 1, and the audit, the export and
	// the report of what succeeded still happen, the report saying which
	// section is stale and why.
	t.Run("a failed model job", func(t *testing.T) {
		t.Parallel()
		wh, exports := t.TempDir(), t.TempDir()
		sumPath := filepath.Join(t.TempDir(), "summary.json")
		r := cli(t, []string{"PARCOURS_EXPORT_DIR=" + exports, orchestration.FailpointEnv + "=attribution"},
			"run", "nightly", "--date", date, "--input", base, "--warehouse", wh, "--summary-json", sumPath)
		if r.code != orchestration.ExitJobFailed {
			t.Fatalf("exit %d, want 1", r.code)
		}
		sum := readSummary(t, sumPath)
		for _, job := range []string{"privacy_audit", "export", "report"} {
			if st := statusOf(sum, job); st != orchestration.StatusSucceeded {
				t.Errorf("%s: %s, want succeeded despite the failed attribution", job, st)
			}
		}
		assertPublished(t, exports, date)
		html, err := os.ReadFile(filepath.Join(exports, "reports", "report-"+date+".html"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(html), `data-stale="attribution"`) || !strings.Contains(string(html), "attribution failed") {
			t.Errorf("the report does not say attribution is stale and why")
		}
	})
}

func readSummary(t *testing.T, path string) orchestration.Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s orchestration.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func statusOf(s orchestration.Summary, job string) string {
	for _, j := range s.Jobs {
		if j.Job == job {
			return j.Status
		}
	}
	return "absent"
}

// assertPublished checks the night's cold export (its manifest) and report.
func assertPublished(t *testing.T, exports, date string) {
	t.Helper()
	manifests, _ := filepath.Glob(filepath.Join(exports, "cold", "*manifest*"))
	more, _ := filepath.Glob(filepath.Join(exports, "cold", "*", "*manifest*"))
	if len(manifests)+len(more) == 0 {
		t.Errorf("no cold export manifest under %s", exports)
	}
	if _, err := os.Stat(filepath.Join(exports, "reports", "report-"+date+".html")); err != nil {
		t.Errorf("no report: %v", err)
	}
}
