package warehouse

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func TestQueryArrow(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = "SELECT i, 'k' || i AS key FROM range($n) t(i) ORDER BY i"
	for _, tc := range []struct {
		name string
		n    int64
	}{
		{"no row: the schema still comes", 0},
		{"one batch", 10},
		{"several batches, in order", 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fields []string
			var got []int64
			start := func(s *arrow.Schema) error {
				for _, f := range s.Fields() {
					fields = append(fields, f.Name)
				}
				return nil
			}
			// $unused is not in the query: left out rather than refused.
			err := QueryArrow(ctx, conn, q, []any{sql.Named("n", tc.n), sql.Named("unused", 1)}, start, func(rec arrow.RecordBatch) error {
				col := rec.Column(0).(*array.Int64)
				for r := 0; r < int(rec.NumRows()); r++ {
					got = append(got, col.Value(r))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fields, []string{"i", "key"}) {
				t.Fatalf("schema %v", fields)
			}
			if int64(len(got)) != tc.n || (tc.n > 0 && (got[0] != 0 || got[len(got)-1] != tc.n-1 || !slices.IsSorted(got))) {
				t.Fatalf("%d rows, want %d in order", len(got), tc.n)
			}
		})
	}
}
