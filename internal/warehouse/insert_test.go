package warehouse

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

func TestInsertRows(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		n       int
		tail    string
		want    int
		wantErr bool
	}{
		{"empty", 0, "", 0, false},
		{"one", 1, "", 1, false},
		{"exactly one batch", insertBatch, "", insertBatch, false},
		{"several batches", 2*insertBatch + 7, "", 2*insertBatch + 7, false},
		{"conflicts ignored", 10, "ON CONFLICT DO NOTHING", 5, false},
		{"conflicts fail", 10, "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sql.Open("duckdb", "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v VARCHAR)"); err != nil {
				t.Fatal(err)
			}
			rows := make([][]any, tc.n)
			for i := range rows {
				k := i
				if tc.name != "several batches" && tc.name != "one" && tc.name != "exactly one batch" {
					k = i % 5 // duplicates
				}
				rows[i] = []any{k, "it's " + string(rune('a'+i%26))}
			}
			err = InsertRows(ctx, db, "INSERT INTO t (k, v) VALUES", tc.tail, rows)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			var got int
			if err := db.QueryRow("SELECT count(*) FROM t").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("rows = %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("ragged rows", func(t *testing.T) {
		db, _ := sql.Open("duckdb", "")
		defer db.Close()
		db.Exec("CREATE TABLE t (k INTEGER, v VARCHAR)")
		if err := InsertRows(ctx, db, "INSERT INTO t VALUES", "", [][]any{{1, "a"}, {2}}); err == nil {
			t.Error("ragged rows accepted")
		}
	})
}
