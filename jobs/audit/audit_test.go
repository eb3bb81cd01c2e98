package audit

import (
	"context"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/sqlfiles"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// TestScanFindsPlantedLeaks plants, in one cold table, each kind of value
// the scan must refuse, next to harmless ones, and checks each is named.
func TestScanFindsPlantedLeaks(t *testing.T) {
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	sqls, err := sqlfiles.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wh, err := warehouse.Open(ctx, &cfg, warehouse.Options{SQL: sqls, Secrets: &keys.Secrets{Pepper: []byte("p")}})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	for _, q := range []string{
		`INSERT INTO identity.identifiers VALUES (pseudonym('cookie_id', 'ck-7f3a'), 'cookie_id', 'ck-***', now())`,
		`INSERT INTO identity.identifiers VALUES (pseudonym('customer_id', 'CRM-0042'), 'customer_id', 'CRM-***', now())`,
		`INSERT INTO identity.customers (customer_key, known, representative_type, n_identifiers, n_customer_ids)
         VALUES ('0123456789abcdef0123456789abcdef', true, 'customer_id', 1, 1)`,
		`CREATE TABLE cold.main.leaky (channel VARCHAR, note VARCHAR, customers BIGINT)`,
		`INSERT INTO cold.main.leaky VALUES ('web', 'ck-7f3a', 12), ('app', 'fine', 15), ('store', 'CRM-0042', 11),
         ('email', 'someone@example.com', 20), ('web', '0123456789abcdef0123456789abcdef', 30), ('app', 'ok', 3)`,
	} {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	vs, _, err := Scan(ctx, wh, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{ // rule on cold.leaky -> count (0: any)
		"a known customer identifier":                 2, // the cookie and the CRM id, through their tokens
		"looks like an email":                         0,
		"a customer key":                              1,
		"rows standing for fewer than k=10 customers": 1,
	}
	got := map[string]int64{}
	for _, v := range vs {
		if v.Table == "cold.leaky" {
			got[v.Rule] += max(v.Count, 1)
		}
	}
	for rule, n := range want {
		if got[rule] == 0 || (n > 0 && got[rule] != n) {
			t.Errorf("rule %q: found %d, want %d (all: %v)", rule, got[rule], n, vs)
		}
	}
}
