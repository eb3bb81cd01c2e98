package report

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// latestCompleteMonth is the last month of table (column month) that ended
// on or before day and has rows the report shows (section
// report_complete_month of the table's SQL file); ok is false when none has.
func latestCompleteMonth(ctx context.Context, rd reader, table string, day time.Time) (time.Time, bool, error) {
	var m sql.NullTime
	if err := queryRow(ctx, rd, table+".sql", "report_complete_month", []any{sql.Named("day", fmtDate(day))}, &m); err != nil {
		return time.Time{}, false, fmt.Errorf("latest complete month of %s: %w", table, err)
	}
	return dayOf(m.Time), m.Valid, nil
}

// latestMonth is the last month of table that started on or before day
// (section report_latest_month of the table's SQL file).
func latestMonth(ctx context.Context, rd reader, table string, day time.Time) (time.Time, bool, error) {
	var m sql.NullTime
	if err := queryRow(ctx, rd, table+".sql", "report_latest_month", []any{sql.Named("day", fmtDate(day))}, &m); err != nil {
		return time.Time{}, false, fmt.Errorf("latest month of %s: %w", table, err)
	}
	return dayOf(m.Time), m.Valid, nil
}

// reportMonth picks the month a monthly section shows: the latest complete
// month (ended on or before day), since the current month is partial and
// its journeys are still open (conversion paths close some days after
// their month, so the newest month is thin); when no month is complete
// yet, the latest month started on or before day, with complete false.
func reportMonth(ctx context.Context, rd reader, table string, day time.Time) (month time.Time, complete, ok bool, err error) {
	month, ok, err = latestCompleteMonth(ctx, rd, table, day)
	if err != nil || ok {
		return month, ok, ok, err
	}
	month, ok, err = latestMonth(ctx, rd, table, day)
	return month, false, ok, err
}

// monthWindow describes the month a section shows, in words.
func monthWindow(month time.Time, complete bool, day time.Time) string {
	if complete {
		return fmt.Sprintf("%s, the latest complete month on or before %s", fmtMonth(month), fmtDate(day))
	}
	return fmt.Sprintf("%s so far (no complete month yet on %s)", fmtMonth(month), fmtDate(day))
}
