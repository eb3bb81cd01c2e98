package orchestration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/parcours/parcours/internal/redact"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

const ledgerSQL = "ops.job_runs.sql"

// Ledger is the run ledger, ops.job_runs.
type Ledger struct {
	db  *sql.DB
	sql *sqlfs.Set
}

// NewLedger uses the warehouse's ops.job_runs.
func NewLedger(db *sql.DB, sqls *sqlfs.Set) *Ledger { return &Ledger{db: db, sql: sqls} }

// JobState is the latest attempt of a job for a date.
type JobState struct {
	Status  string
	Attempt int
	// Error is the attempt's error, or a skip's reason.
	Error string
}

// State returns the latest attempt of every job for a date.
func (l *Ledger) State(ctx context.Context, date time.Time) (map[string]JobState, error) {
	q, err := l.sql.Section(ledgerSQL, "state")
	if err != nil {
		return nil, err
	}
	rows, err := l.db.QueryContext(ctx, q, sql.Named("date", date))
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	out := map[string]JobState{}
	for rows.Next() {
		var job string
		var st JobState
		if err := rows.Scan(&job, &st.Status, &st.Attempt, &st.Error); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		out[job] = st
	}
	return out, rows.Err()
}

// MarkInterrupted fails rows left running by a dead process. Only call it
// while holding the warehouse's exclusive lock.
func (l *Ledger) MarkInterrupted(ctx context.Context) (int64, error) {
	return l.exec(ctx, "interrupted")
}

// Start records a job attempt as running.
func (l *Ledger) Start(ctx context.Context, runID, job string, date time.Time, attempt int, started time.Time) error {
	host, _ := os.Hostname()
	_, err := l.exec(ctx, "start", sql.Named("run_id", runID), sql.Named("job", job),
		sql.Named("date", date), sql.Named("attempt", attempt), sql.Named("started_at", started),
		sql.Named("host", host), sql.Named("pid", os.Getpid()))
	return err
}

// Finish records how a job attempt ended.
func (l *Ledger) Finish(ctx context.Context, runID, job, status string, ended time.Time, c Counts, jobErr error) error {
	var errText any
	if jobErr != nil {
		errText = redact.Text(jobErr.Error())
	}
	var detail any
	if len(c.Detail) > 0 {
		b, _ := json.Marshal(c.Detail)
		detail = string(b)
	}
	_, err := l.exec(ctx, "finish", sql.Named("run_id", runID), sql.Named("job", job),
		sql.Named("status", status), sql.Named("ended_at", ended), sql.Named("rows_in", c.In),
		sql.Named("rows_out", c.Out), sql.Named("error", errText), sql.Named("detail", detail))
	return err
}

func (l *Ledger) exec(ctx context.Context, section string, args ...any) (int64, error) {
	q, err := l.sql.Section(ledgerSQL, section)
	if err != nil {
		return 0, err
	}
	n, err := warehouse.ExecScript(ctx, l.db, q, args...)
	if err != nil {
		return 0, fmt.Errorf("ledger %s: %w", section, err)
	}
	return n, nil
}

// Entry is one ledger row, as `parcours status` shows it.
type Entry struct {
	RunID       string     `json:"run_id"`
	Job         string     `json:"job"`
	LogicalDate string     `json:"logical_date"`
	Attempt     int        `json:"attempt"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	DurationS   float64    `json:"duration_s"`
	RowsIn      int64      `json:"rows_in"`
	RowsOut     int64      `json:"rows_out"`
	Error       string     `json:"error,omitempty"`
}

// List returns ledger rows, newest first, for one date or all (date nil).
func (l *Ledger) List(ctx context.Context, date *time.Time, limit int) ([]Entry, error) {
	q, err := l.sql.Section(ledgerSQL, "list")
	if err != nil {
		return nil, err
	}
	var d any
	if date != nil {
		d = *date
	}
	rows, err := l.db.QueryContext(ctx, q, sql.Named("date", d), sql.Named("limit", limit))
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var ld time.Time
		var ended sql.NullTime
		var in, outRows sql.NullInt64
		var errText sql.NullString
		if err := rows.Scan(&e.RunID, &e.Job, &ld, &e.Attempt, &e.Status, &e.StartedAt, &ended, &in, &outRows, &errText); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		e.LogicalDate = ld.Format(time.DateOnly)
		if ended.Valid {
			t := ended.Time
			e.EndedAt = &t
			e.DurationS = t.Sub(e.StartedAt).Seconds()
		}
		e.RowsIn, e.RowsOut, e.Error = in.Int64, outRows.Int64, errText.String
		out = append(out, e)
	}
	return out, rows.Err()
}
