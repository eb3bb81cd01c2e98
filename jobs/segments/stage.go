package segments

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
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
	start := func(schema *arrow.Schema) error {
		for i, f := range schema.Fields() {
			if i > 0 { // 0 is customer_key
				in.Columns = append(in.Columns, f.Name)
			}
		}
		return nil
	}
	err = warehouse.QueryArrow(ctx, conn, q, []any{sql.Named("cutoff", cutoff.Format(time.DateOnly))}, start, func(rec arrow.RecordBatch) error {
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
		return nil
	})
	if err != nil {
		return in, fmt.Errorf("load micro features of %s: %w", cutoff.Format(time.DateOnly), err)
	}
	return in, nil
}

// stageMicro appends the micro members to seg_rows: detail holds the
// customer's features as read (null where missing, not the imputed value).
func stageMicro(ctx context.Context, conn *sql.Conn, in MicroInput, seg *MicroSegmentation) error {
	dw := newDetailWriter(in.Columns)
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "seg_rows")
		if err != nil {
			return fmt.Errorf("stage micro segments: %w", err)
		}
		var js []byte
		for i, ck := range in.Customers {
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					_ = app.Close()
					return err
				}
			}
			if js, err = dw.append(js[:0], in.Values[i]); err != nil {
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

// detailWriter writes a member's features as json.Marshal writes the map
// {column: value, or null for NaN}, without a map per customer: keys
// sorted, numbers in encoding/json's format (see appendJSONFloat).
type detailWriter struct {
	order []int    // columns in key order
	keys  [][]byte // `"column":` in that order
}

func newDetailWriter(columns []string) detailWriter {
	w := detailWriter{order: make([]int, len(columns))}
	for j := range w.order {
		w.order[j] = j
	}
	slices.SortStableFunc(w.order, func(a, b int) int { return strings.Compare(columns[a], columns[b]) })
	for _, j := range w.order {
		k, _ := json.Marshal(columns[j]) // a string always marshals
		w.keys = append(w.keys, append(k, ':'))
	}
	return w
}

// append appends the object of one row of values (in columns order).
func (w detailWriter) append(b []byte, row []float64) ([]byte, error) {
	b = append(b, '{')
	for n, j := range w.order {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, w.keys[n]...)
		switch v := row[j]; {
		case math.IsNaN(v):
			b = append(b, "null"...)
		case math.IsInf(v, 0):
			return b, fmt.Errorf("json: unsupported value: %v", v)
		default:
			b = appendJSONFloat(b, v)
		}
	}
	return append(b, '}'), nil
}

// appendJSONFloat appends f as encoding/json writes a float64: like
// ES6's number to string, 'e' notation below 1e-6 and from 1e21, the
// exponent without leading zero.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
