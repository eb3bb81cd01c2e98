package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// QueryArrow runs a query on conn and hands its result to each as Arrow
// record batches, in order, after giving start (when not nil) the
// result's schema, even for no row: columns come out of DuckDB whole,
// without a Go value per cell (reading a million rows this way takes a
// fraction of the time database/sql's Scan does). A batch, and every
// value read from it, is only valid during the call: copy what must
// outlive it. Named arguments the query does not use are left out, as
// Run does.
func QueryArrow(ctx context.Context, conn *sql.Conn, query string, args []any, start func(*arrow.Schema) error, each func(arrow.RecordBatch) error) error {
	return conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err := ar.QueryContext(ctx, query, argsFor(query, args)...)
		if err != nil {
			return err
		}
		defer rr.Release()
		if start != nil {
			if err := start(rr.Schema()); err != nil {
				return err
			}
		}
		for rr.Next() {
			if err := each(rr.RecordBatch()); err != nil {
				return err
			}
		}
		return rr.Err()
	})
}
