package purge

import (
	"context"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/sqlfiles"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// Every table that holds a customer_key, a customer's identifier token or
// a ledger member must be cleared by the erase section: a table added
// later cannot keep an erased customer by being forgotten there.
func TestEraseCoversEveryCustomerTable(t *testing.T) {
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	sqls, err := sqlfiles.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	wh, err := warehouse.Open(context.Background(), &cfg, warehouse.Options{SQL: sqls, Secrets: &keys.Secrets{Pepper: []byte("p")}})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	erase, err := sqls.Section("privacy.purge.sql", "erase")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, stmt := range warehouse.SplitStatements(erase) {
		if tgt := Target(stmt); tgt != "" {
			covered[tgt] = true
		}
	}
	rows, err := wh.DB.Query(`SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns
WHERE table_catalog = 'hot' AND column_name IN ('customer_key', 'subject_token', 'id_token', 'member', 'a_token', 'merged_token')
ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tbl string
		if err := rows.Scan(&tbl); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.HasPrefix(tbl, "landing.") {
			continue // emptied every run
		}
		if !covered[tbl] {
			t.Errorf("%s holds customers but privacy.purge.sql's erase section does not clear it", tbl)
		}
	}
	if n < 15 {
		t.Fatalf("only %d customer tables found", n)
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ stmt, want string }{
		{"DELETE FROM analytics.web_events WHERE x", "analytics.web_events"},
		{"-- why\n-- more\ndelete from ops.quarantine WHERE y", "ops.quarantine"},
		{"INSERT INTO ops.suppression (a) SELECT 1", "ops.suppression"},
		{"UPDATE ops.sync_state SET customer_key = NULL WHERE y", "ops.sync_state"},
		{"CREATE TEMP TABLE x AS SELECT 1", ""},
	} {
		if got := Target(tc.stmt); got != tc.want {
			t.Errorf("Target(%q) = %q, want %q", tc.stmt, got, tc.want)
		}
	}
}
