package triggers

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

const (
	firesFile      = "analytics.trigger_fires.sql"
	exclusionsFile = "analytics.trigger_exclusions.sql"
)

// Result is what one evaluation found, per trigger.
type Result struct {
	// Fires counts the customers each trigger fired for.
	Fires map[string]int64
	// Excluded counts, per trigger and reason, the candidates kept out.
	Excluded map[string]map[string]int64
}

// Candidates is the number of customers a trigger matched before the
// consent, opt-out and cooldown gates.
func (r Result) Candidates(trigger string) int64 {
	n := r.Fires[trigger]
	for _, m := range r.Excluded[trigger] {
		n += m
	}
	return n
}

// Evaluate computes the triggers of date, evaluated at the end of that
// business day in loc, and replaces that date's rows of
// analytics.trigger_fires and analytics.trigger_exclusions in one
// transaction. Only facts before that instant and fires before that date
// are read, so re-running a date gives the same rows. conn is the job's own
// connection: the steps share temp tables.
func Evaluate(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, date time.Time, loc *time.Location, opts Options) (Result, error) {
	if err := validate(opts); err != nil {
		return Result{}, err
	}
	now := orchestration.EndOfDay(date, loc)
	day := date.Format(time.DateOnly)
	args := []any{
		sql.Named("now", now),
		sql.Named("date", day),
		sql.Named("cart_since", now.Add(-CartWindow)),
		sql.Named("browse_since", time.Date(now.Year(), now.Month(), now.Day()-BrowseDays, 0, 0, 0, 0, loc)),
		sql.Named("min_views", BrowseMinViews),
		sql.Named("contact_since", time.Date(now.Year(), now.Month(), now.Day()-opts.PostContactDays, 0, 0, 0, 0, loc)),
		sql.Named("cooldown_days", opts.CooldownDays),
	}
	err := warehouse.InTx(ctx, conn, func() error {
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: firesFile, Section: "defs"}); err != nil {
			return err
		}
		if err := insertDefs(ctx, wh, conn, opts); err != nil {
			return err
		}
		for _, name := range Names() {
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: firesFile, Section: name}, args...); err != nil {
				return fmt.Errorf("trigger %s: %w", name, err)
			}
		}
		for _, step := range []struct{ file, section string }{
			{firesFile, "gate"}, {firesFile, "write"}, {exclusionsFile, "write"},
		} {
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: step.file, Section: step.section}, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("evaluate triggers of %s: %w", day, err)
	}
	res, err := count(ctx, wh, conn)
	if err != nil {
		return Result{}, fmt.Errorf("count triggers of %s: %w", day, err)
	}
	return res, nil
}

// insertDefs fills trigger_defs: each trigger's channel from the options,
// the consent purpose it needs, the stated purpose and content.
func insertDefs(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, opts Options) error {
	var rows [][]any
	for _, d := range Definitions() {
		ch := opts.Channel(d.Name)
		consent, err := ConsentPurpose(ch)
		if err != nil {
			return fmt.Errorf("trigger %s: %w", d.Name, err)
		}
		rows = append(rows, []any{d.Name, ch, consent, d.Purpose, d.Content})
	}
	return wh.InsertSection(ctx, conn, sqlfs.Ref{File: firesFile, Section: "defs_insert"}, rows)
}

// count reads what the gate decided for each candidate.
func count(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) (Result, error) {
	res := Result{Fires: map[string]int64{}, Excluded: map[string]map[string]int64{}}
	for _, name := range Names() {
		res.Fires[name] = 0
		res.Excluded[name] = map[string]int64{}
		for _, r := range ExclusionReasons() {
			res.Excluded[name][r] = 0
		}
	}
	q, err := wh.SQL.Section(firesFile, "gated_counts")
	if err != nil {
		return res, err
	}
	rows, err := warehouse.Query(ctx, conn, q)
	if err != nil {
		return res, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var excluded sql.NullString
		var n int64
		if err := rows.Scan(&name, &excluded, &n); err != nil {
			return res, err
		}
		if excluded.Valid {
			res.Excluded[name][excluded.String] = n
		} else {
			res.Fires[name] = n
		}
	}
	return res, rows.Err()
}
