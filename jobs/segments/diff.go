package segments

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
)

// Change is one segment's membership on a computed day against the
// previous computed day.
type Change struct {
	Family, Segment string
	// PreviousOn is the previous computed day; zero when there is none
	// (then everyone entered).
	PreviousOn      time.Time
	Members         int64
	PreviousMembers int64
	// Entered are members now who were not in this segment on the
	// previous day; Left the reverse. Moving between two segments of a
	// family counts in both.
	Entered, Left int64
}

// Diff reads who entered and left each segment between date and the
// previous day segments were computed (the segments_diff section of
// analytics.segment_members.sql), in family and segment order.
func Diff(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, date time.Time) ([]Change, error) {
	q, err := wh.SQL.Section(membersFile, "segments_diff")
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, q, sql.Named("date", date.Format(time.DateOnly)))
	if err != nil {
		return nil, fmt.Errorf("segments diff of %s: %w", date.Format(time.DateOnly), err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var prev sql.NullTime
		if err := rows.Scan(&c.Family, &c.Segment, &prev, &c.Members, &c.PreviousMembers, &c.Entered, &c.Left); err != nil {
			return nil, fmt.Errorf("segments diff: %w", err)
		}
		if prev.Valid {
			c.PreviousOn = prev.Time
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
