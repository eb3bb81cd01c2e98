package ingest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/warehouse/whtest"
)

// prepare brings a landing table left in an older layout (a column
// missing) to the current one when it is empty, refuses it when it holds
// rows, and leaves a current table and its rows as they are.
func TestPrepareRebuildsOldLayouts(t *testing.T) {
	srcs, err := sources.Effective(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		old     bool // landing.stores loses a column first
		row     bool // and holds a row
		wantErr string
	}{
		{"current layout with a row", false, true, ""},
		{"older layout, empty: rebuilt", true, false, ""},
		{"older layout with a row: refused", true, true, "landing.stores holds 1 rows in an older layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			ctx := context.Background()
			wh, conn := whtest.OpenConn(t, &cfg)
			if err := prepare(ctx, conn, wh.SQL, srcs); err != nil {
				t.Fatal(err)
			}
			current := columnsOf(t, wh.DB, "stores")
			if tc.old {
				if _, err := conn.ExecContext(ctx, "ALTER TABLE landing.stores DROP COLUMN _extra"); err != nil {
					t.Fatal(err)
				}
			}
			if tc.row {
				if _, err := conn.ExecContext(ctx, "INSERT INTO landing.stores (store_id, _file) VALUES ('S1', 'f')"); err != nil {
					t.Fatal(err)
				}
			}
			err := prepare(ctx, conn, wh.SQL, srcs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("prepare: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := columnsOf(t, wh.DB, "stores"); got != current {
				t.Errorf("columns %s, want %s", got, current)
			}
			var n int
			if err := wh.DB.QueryRow("SELECT count(*) FROM landing.stores").Scan(&n); err != nil || (n == 1) != tc.row {
				t.Errorf("%d rows (%v), row kept: want %v", n, err, tc.row)
			}
			var probes int
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'probe_%'").Scan(&probes); err != nil || probes != 0 {
				t.Errorf("%d probe tables left (%v)", probes, err)
			}
		})
	}
}

// columnsOf is a landing table's columns and types, in order.
func columnsOf(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var cols string
	if err := db.QueryRow(`SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY column_index)
FROM duckdb_columns() WHERE schema_name = 'landing' AND table_name = ?`, table).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	return cols
}
