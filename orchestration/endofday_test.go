package orchestration

import (
	"testing"
	"time"
)

func TestEndOfDay(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ date, want string }{
		{"2026-06-10", "2026-06-10T22:00:00Z"}, // summer time, UTC+2
		{"2026-01-15", "2026-01-15T23:00:00Z"}, // winter time, UTC+1
		{"2026-03-28", "2026-03-28T23:00:00Z"}, // the night clocks go forward: midnight is still UTC+1
		{"2026-03-29", "2026-03-29T22:00:00Z"},
		{"2026-12-31", "2026-12-31T23:00:00Z"},
	} {
		if got := EndOfDay(mustDay(t, tc.date), loc).UTC().Format(time.RFC3339); got != tc.want {
			t.Errorf("EndOfDay(%s) = %s, want %s", tc.date, got, tc.want)
		}
	}
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
