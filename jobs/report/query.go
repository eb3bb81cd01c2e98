package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/parcours/parcours/internal/warehouse"
)

// Querier is what the report needs of a database handle: the QueryContext
// of *sql.DB, *sql.Conn or *sql.Tx. The report only reads.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Sections is where the report's statements come from: the warehouse's
// SQL files (a *sql.Set of the sql package), so the config key sql_dir applies to them.
type Sections interface {
	Section(file, section string) (string, error)
}

// reader is what the sections read through: the database and the SQL
// files their statements are in.
type reader struct {
	db  Querier
	sql Sections
}

// htmlSQL holds the report's reads of tables whose SQL file belongs to
// another job; the others are in the table's own file (the
// report_* sections).
const htmlSQL = "report.html.sql"

// tableExists reports whether a table the report reads is there. Names are
// "cold.<table>" (the attached cold store) or "ops.<table>" (the ops schema
// of the hot store). A table that does not exist yet (a store opened
// read-only before the first run, a job not built yet) is "no data yet",
// not an error.
func tableExists(ctx context.Context, rd reader, name string) (bool, error) {
	schema, table, ok := strings.Cut(name, ".")
	if !ok {
		return false, fmt.Errorf("table name %q: want schema.table", name)
	}
	section := "cold_table_exists"
	if schema != "cold" {
		section = "table_exists"
	}
	var n int64
	err := queryRow(ctx, rd, htmlSQL, section, []any{sql.Named("schema", schema), sql.Named("table", table)}, &n)
	if err != nil {
		return false, fmt.Errorf("look up table %s: %w", name, err)
	}
	return n > 0, nil
}

// query runs a section with the named arguments it uses. An error finding
// the section names file and section; the query's own errors are left to
// the caller to put in context.
func query(ctx context.Context, rd reader, file, section string, args []any) (*sql.Rows, error) {
	q, err := rd.sql.Section(file, section)
	if err != nil {
		return nil, err
	}
	return warehouse.Query(ctx, rd.db, q, args...)
}

// queryRow scans the single row of a section into dest.
func queryRow(ctx context.Context, rd reader, file, section string, args []any, dest ...any) error {
	rows, err := query(ctx, rd, file, section, args)
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

// queryEach runs a section and calls scan for every row.
func queryEach(ctx context.Context, rd reader, file, section string, args []any, scan func(*sql.Rows) error) error {
	rows, err := query(ctx, rd, file, section, args)
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
