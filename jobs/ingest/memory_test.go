package ingest

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestNightBytes(t *testing.T) {
	h := newHarness(t)
	page := web("w1", "2026-11-20T10:00:00Z", "page_view", "")
	h.write("2026-11-20", "web_events.jsonl", page)                    // 1 line
	h.write("2026-11-21", "web_events.jsonl", page+page)               // 2 lines (a re-delivery)
	h.write("2026-11-22", "web_events.jsonl", page+page+page)          // 3 lines
	h.write("2026-11-22", "unknown.txt", "not an extract, still read") // every file of the folder counts
	line := int64(len(page))
	extra := int64(len("not an extract, still read"))
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	bytes := func(input, date string) int64 {
		t.Helper()
		n, err := NightBytes(context.Background(), h.wh, input, day(date))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name, date string
		want       int64
	}{
		{"fresh warehouse: every folder up to the date", "2026-11-21", 3 * line},
		{"a later date reaches further", "2026-11-22", 6*line + extra},
		{"a date before every folder", "2026-11-19", 0},
	} {
		if got := bytes(h.input, tc.date); got != tc.want {
			t.Errorf("%s: %d bytes, want %d", tc.name, got, tc.want)
		}
	}
	if got := bytes(filepath.Join(h.input, "missing"), "2026-11-22"); got != 0 {
		t.Errorf("missing input folder: %d bytes, want 0", got)
	}

	// The night of the 21st loads the 20th and the 21st; the ledger says so.
	if _, err := h.run("2026-11-21"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.wh.DB.Exec(`INSERT INTO ops.job_runs (run_id, job, logical_date, attempt, status, started_at)
VALUES ('run-2026-11-21', 'ingest', DATE '2026-11-21', 1, 'succeeded', now())`); err != nil {
		t.Fatal(err)
	}
	if got, want := bytes(h.input, "2026-11-22"), 3*line+extra; got != want {
		t.Errorf("the next night: %d bytes, want %d (its own folder only)", got, want)
	}
	if got, want := bytes(h.input, "2026-11-21"), 3*line; got != want {
		t.Errorf("the 21st again (a job in its own process after ingest, or --force): %d bytes, want %d", got, want)
	}
}
