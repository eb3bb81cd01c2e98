package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
)

// Querier is what the report needs of a database handle: the QueryContext
// of *sql.DB, *sql.Conn or *sql.Tx. The report only reads.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tableExists reports whether a table the report reads is there. Names are
// "cold.<table>" (the attached cold store) or "ops.<table>" (the ops schema
// of the hot store). A table that does not exist yet (a store opened
// read-only before the first run, a job not built yet) is "no data yet",
// not an error.
func tableExists(ctx context.Context, db Querier, name string) (bool, error) {
	schema, table, ok := strings.Cut(name, ".")
	if !ok {
		return false, fmt.Errorf("table name %q: want schema.table", name)
	}
	q := `SELECT count(*) FROM duckdb_tables() WHERE database_name = 'cold' AND schema_name = 'main' AND table_name = ?`
	args := []any{table}
	if schema != "cold" {
		q = `SELECT count(*) FROM duckdb_tables() WHERE database_name <> 'cold' AND schema_name = ? AND table_name = ?`
		args = []any{schema, table}
	}
	var n int64
	if err := queryRow(ctx, db, q, args, &n); err != nil {
		return false, fmt.Errorf("look up table %s: %w", name, err)
	}
	return n > 0, nil
}

// queryRow scans the single row of q into dest.
func queryRow(ctx context.Context, db Querier, q string, args []any, dest ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// queryEach runs q and calls scan for every row.
func queryEach(ctx context.Context, db Querier, q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// nullFloat turns a nullable double into NaN when NULL.
func nullFloat(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}
