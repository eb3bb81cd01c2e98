package warehouse

import (
	"context"
	"database/sql"

	sqlfs "github.com/parcours/parcours/sql"
)

// Queryer is what QueryMaps needs: *sql.DB, *sql.Conn and *sql.Tx all fit.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryMaps runs a query and returns its rows as column -> value maps,
// for results shown as they are (JSON, a subject access report). Named
// arguments the query does not use are left out, as ExecScript does.
func QueryMaps(ctx context.Context, db Queryer, query string, args ...any) ([]map[string]any, error) {
	rows, err := db.QueryContext(ctx, query, argsFor(query, args)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals, err := ScanValues(rows, len(cols))
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ScanValues scans the current row of n columns into values of the
// driver's types.
func ScanValues(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return vals, nil
}

// RowQueryer is what QueryRow needs: *sql.DB, *sql.Conn and *sql.Tx all fit.
type RowQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// QueryRow runs a statement expected to return one row, passing only the
// named arguments it uses (DuckDB rejects the others), so callers can
// give a section every argument it may need.
func QueryRow(ctx context.Context, db RowQueryer, stmt string, args ...any) *sql.Row {
	return db.QueryRowContext(ctx, stmt, argsFor(stmt, args)...)
}

// Query is QueryRow for statements returning rows.
func Query(ctx context.Context, db Queryer, stmt string, args ...any) (*sql.Rows, error) {
	return db.QueryContext(ctx, stmt, argsFor(stmt, args)...)
}

// Scanner is a row to scan: a *sql.Row, or the error of getting one.
type Scanner interface{ Scan(dest ...any) error }

type errScanner struct{ err error }

func (e errScanner) Scan(...any) error { return e.err }

// QueryRowSection runs a section expected to return one row on db,
// passing only the named arguments it uses. A missing section's error
// comes back from Scan, as a failed query's would.
func (w *Warehouse) QueryRowSection(ctx context.Context, db RowQueryer, ref sqlfs.Ref, args ...any) Scanner {
	q, err := w.SQL.Text(ref)
	if err != nil {
		return errScanner{err}
	}
	return QueryRow(ctx, db, q, args...)
}
