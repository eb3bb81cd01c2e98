package segments

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/warehouse"
)

// loadMicroInput reads the micro_features section's rows (consented
// customers of seg_consented at cutoff) as Arrow record batches.
func loadMicroInput(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, cutoff time.Time) (MicroInput, error) {
	var in MicroInput
	q, err := wh.SQL.Section(membersFile, "micro_features")
	if err != nil {
		return in, err
	}
	err = conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err := ar.QueryContext(ctx, q, sql.Named("cutoff", cutoff.Format(time.DateOnly)))
		if err != nil {
			return err
		}
		defer rr.Release()
		for i, f := range rr.Schema().Fields() {
			if i > 0 {
				in.Columns = append(in.Columns, f.Name)
			}
		}
		for rr.Next() {
			rec := rr.RecordBatch()
			keys, ok := rec.Column(0).(*array.String)
			if !ok {
				return fmt.Errorf("customer_key is %s, want a string column", rec.Column(0).DataType())
			}
			cols := make([]*array.Float64, len(in.Columns))
			for j := range cols {
				if cols[j], ok = rec.Column(j + 1).(*array.Float64); !ok {
					return fmt.Errorf("%s is %s, want DOUBLE", in.Columns[j], rec.Column(j+1).DataType())
				}
			}
			for r := 0; r < int(rec.NumRows()); r++ {
				in.Customers = append(in.Customers, strings.Clone(keys.Value(r))) // the batch buffer is reused
				row := make([]float64, len(cols))
				for j, c := range cols {
					if c.IsNull(r) {
						row[j] = math.NaN()
					} else {
						row[j] = c.Value(r)
					}
				}
				in.Values = append(in.Values, row)
			}
		}
		return rr.Err()
	})
	if err != nil {
		return in, fmt.Errorf("load micro features of %s: %w", cutoff.Format(time.DateOnly), err)
	}
	return in, nil
}

// stageMicro appends the micro members to seg_rows: detail holds the
// customer's features as read (null where missing, not the imputed value).
func stageMicro(ctx context.Context, conn *sql.Conn, in MicroInput, seg *MicroSegmentation) error {
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "seg_rows")
		if err != nil {
			return fmt.Errorf("stage micro segments: %w", err)
		}
		detail := make(map[string]any, len(in.Columns))
		for i, ck := range in.Customers {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					_ = app.Close()
					return err
				}
			}
			for j, c := range in.Columns {
				if v := in.Values[i][j]; math.IsNaN(v) {
					detail[c] = nil
				} else {
					detail[c] = v
				}
			}
			js, err := json.Marshal(detail) // keys sorted: the same text every run
			if err != nil {
				_ = app.Close()
				return fmt.Errorf("stage micro segments: %w", err)
			}
			if err := app.AppendRow(FamilyMicro, seg.Segments[seg.Labels[i]].Name, ck, seg.Distances[i], string(js)); err != nil {
				_ = app.Close()
				return fmt.Errorf("stage micro segments: %w", err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("stage micro segments: %w", err)
		}
		return nil
	})
}
