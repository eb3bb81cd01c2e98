// Package features computes point-in-time customer features for a cut-off
// date (sql/analytics.customer_features.sql) and hands them to Go models as
// a float64 matrix, read from DuckDB as Arrow record batches (no row-by-row
// scanning of millions of cells).
package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// featuresSQL builds and reads analytics.customer_features.
const featuresSQL = "analytics.customer_features.sql"

// Table is the features of one cut-off: row-major values with NaN for
// missing, one row per customer.
type Table struct {
	Cutoff    time.Time
	Customers []string
	Names     []string
	Values    []float64 // len(Customers) * len(Names)
}

// Row returns customer i's features.
func (t *Table) Row(i int) []float64 { return t.Values[i*len(t.Names) : (i+1)*len(t.Names)] }

// Build (re)computes the features of a cut-off in analytics.customer_features.
func Build(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cutoff time.Time) (int64, error) {
	day := sql.Named("cutoff", cutoff.Format(time.DateOnly))
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: featuresSQL, Section: "build"}, day); err != nil {
		return 0, err
	}
	q, err := wh.SQL.Section(featuresSQL, "count")
	if err != nil {
		return 0, err
	}
	var n int64
	err = warehouse.QueryRow(ctx, conn, q, day).Scan(&n)
	return n, err
}

// Load reads the features of a cut-off as Arrow record batches, in
// customer_key order; limit > 0 keeps the first limit customers (the
// training sample, models.churn_train_sample).
func Load(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cutoff time.Time, limit int) (*Table, error) {
	t := &Table{Cutoff: cutoff}
	section, args := "load", []any{sql.Named("cutoff", cutoff.Format(time.DateOnly))}
	if limit > 0 {
		section, args = "load_sample", append(args, sql.Named("limit", limit))
	}
	q, err := wh.SQL.Section(featuresSQL, section)
	if err != nil {
		return nil, err
	}
	start := func(schema *arrow.Schema) error {
		if schema.NumFields() == 0 {
			return fmt.Errorf("%s %s: no column", featuresSQL, section)
		}
		for _, f := range schema.Fields()[1:] { // 0 is customer_key
			t.Names = append(t.Names, f.Name)
		}
		return nil
	}
	err = warehouse.QueryArrow(ctx, conn, q, args, start, func(rec arrow.RecordBatch) error {
		keys, ok := rec.Column(0).(*array.String)
		if !ok {
			return fmt.Errorf("customer_key is %s, want a string column", rec.Column(0).DataType())
		}
		n := int(rec.NumRows())
		base := len(t.Customers)
		for r := 0; r < n; r++ {
			t.Customers = append(t.Customers, strings.Clone(keys.Value(r))) // the batch buffer is reused
		}
		t.Values = append(t.Values, make([]float64, n*len(t.Names))...)
		for j := range t.Names {
			col := rec.Column(j + 1)
			for r := 0; r < n; r++ {
				t.Values[(base+r)*len(t.Names)+j] = value(col, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load features of %s: %w", cutoff.Format(time.DateOnly), err)
	}
	return t, nil
}

// value reads one numeric cell as float64, NaN when null.
func value(col arrow.Array, r int) float64 {
	if col.IsNull(r) {
		return math.NaN()
	}
	switch c := col.(type) {
	case *array.Float64:
		return c.Value(r)
	case *array.Int64:
		return float64(c.Value(r))
	case *array.Int32:
		return float64(c.Value(r))
	case *array.Float32:
		return float64(c.Value(r))
	}
	return math.NaN()
}

// ErrNoData is returned when the warehouse holds no purchase yet.
var ErrNoData = errors.New("no purchase in the warehouse yet")

// ErrIncomplete is returned for a cut-off whose churn horizon is not over
// in the data.
var ErrIncomplete = errors.New("churn horizon not complete")

// LastOrderDay is the last day the warehouse holds purchases for (the
// latest date split loaded, or the latest order): a churn label needs its
// whole horizon up to it.
func LastOrderDay(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn) (time.Time, error) {
	q, err := wh.SQL.Section(featuresSQL, "last_day")
	if err != nil {
		return time.Time{}, err
	}
	var d sql.NullTime
	if err := conn.QueryRowContext(ctx, q).Scan(&d); err != nil {
		return time.Time{}, fmt.Errorf("last day of purchases: %w", err)
	}
	if !d.Valid {
		return time.Time{}, ErrNoData
	}
	return d.Time, nil
}

// LabelsComplete refuses a cut-off whose churn horizon runs past the last
// day of data: everyone who simply has not bought yet would be "churned".
func LabelsComplete(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cutoff time.Time, horizon int) error {
	last, err := LastOrderDay(ctx, wh, conn)
	if err != nil {
		return err
	}
	if lastComplete := last.AddDate(0, 0, 1-horizon); cutoff.After(lastComplete) {
		return fmt.Errorf("%w: the %d-day churn horizon of cut-off %s is not over in the data (purchases up to %s); the last complete cut-off is %s",
			ErrIncomplete, horizon, cutoff.Format(time.DateOnly), last.Format(time.DateOnly), lastComplete.Format(time.DateOnly))
	}
	return nil
}

// Labels returns the churn label (1 = no purchase in horizon days from the
// cut-off) of every customer of a cut-off, in the Table's order.
func Labels(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cutoff time.Time, horizon int) (map[string]float64, error) {
	q, err := wh.SQL.Section(featuresSQL, "label")
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, q, sql.Named("cutoff", cutoff.Format(time.DateOnly)), sql.Named("horizon", horizon))
	if err != nil {
		return nil, fmt.Errorf("churn labels: %w", err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var k string
		var y int
		if err := rows.Scan(&k, &y); err != nil {
			return nil, err
		}
		out[k] = float64(y)
	}
	return out, rows.Err()
}

// Job computes the features of the day after the logical date (so the
// logical date's events count) for nightly scoring.
type Job struct{}

// New returns the features job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "features", Needs: []string{"purge"},
		SQL: sqlRefs(),
		Doc: "point-in-time customer features (RFM, channel mix, sessions, email, contacts, NPS) from hot tables"}
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var c orchestration.Counts
	conn, err := env.WH.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	n, err := Build(ctx, env.WH, conn, ScoringCutoff(env.Date))
	c.Out = n
	return c, err
}

// ScoringCutoff is the cut-off nightly scoring uses for a logical date: the
// next day, so that everything up to the end of the logical date counts.
func ScoringCutoff(date time.Time) time.Time { return date.AddDate(0, 0, 1) }

// SampleClause is the SQL that keeps a cut-off's training sample: the
// limit smallest customer keys per cut-off (nothing when limit is 0). The
// merge applies it to each shard, which is exact: the smallest keys of
// all are among each shard's smallest. Load keeps the same sample with
// the load_sample section of analytics.customer_features.sql.
func SampleClause(limit int) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(" QUALIFY row_number() OVER (PARTITION BY cutoff ORDER BY customer_key) <= %d", limit)
}
