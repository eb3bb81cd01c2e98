package cold

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"
	sqlfs "github.com/parcours/parcours/sql"
)

// A touch stays until lookback + late days after the last day of its
// month, then goes: the prune keeps exactly the touches with
// last_day(ts) + lookback + late >= date, month ends included to the
// microsecond (the session's time zone, UTC here).
func TestPruneTouches(t *testing.T) {
	ctx := context.Background()
	wh, conn := whtest.OpenConn(t, nil)
	touches := []string{
		"2026-09-30 23:59:59.999999", "2026-10-01 00:00:00", "2026-10-15 12:00:00",
		"2026-10-31 23:59:59.999999", "2026-11-01 00:00:00", "2026-11-30 23:59:59", "2026-12-01 00:00:00",
	}
	const lookback, late = 30, 5
	for _, date := range []string{"2026-11-04", "2026-11-05", "2026-12-05", "2026-12-06", "2027-01-04", "2027-01-05"} {
		t.Run(date, func(t *testing.T) {
			if _, err := conn.ExecContext(ctx, "DELETE FROM ops.cold_touches"); err != nil {
				t.Fatal(err)
			}
			for _, ts := range touches {
				if _, err := conn.ExecContext(ctx, "INSERT INTO ops.cold_touches VALUES ('m', CAST(? AS TIMESTAMP) AT TIME ZONE 'UTC', 'direct', 'b')", ts); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "ops.cold_ledger.sql", Section: "prune"}, sql.Named("date", date),
				sql.Named("late_days", late), sql.Named("lookback_days", lookback)); err != nil {
				t.Fatal(err)
			}
			d, _ := time.Parse(time.DateOnly, date)
			want := 0
			for _, ts := range touches {
				at, _ := time.Parse("2006-01-02 15:04:05.999999", ts)
				lastDay := time.Date(at.Year(), at.Month()+1, 0, 0, 0, 0, 0, time.UTC)
				if !lastDay.AddDate(0, 0, lookback+late).Before(d) {
					want++
				}
			}
			var got int
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM ops.cold_touches").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%d touches kept, want %d", got, want)
			}
		})
	}
}
