package split

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"
	sqlfs "github.com/parcours/parcours/sql"
)

// The split recomputes the orders of its batches' order ids only; the
// result must be the whole rebuild's, whatever tonight's facts do to
// orders of earlier nights. A fact is "table id customer day amount";
// days are 2026-11-<day>, last night's batch is b1, tonight's b2.
func TestBatchOrdersEqualARebuild(t *testing.T) {
	cases := []struct {
		name               string
		before, rerun, now []string // b1's facts; b2's from an earlier attempt; b2's
	}{
		{"a new web purchase beside an older one",
			[]string{"web o1 K1 1 10"}, nil, []string{"web o2 K2 2 20"}},
		{"an order record wins over last night's purchase event",
			[]string{"web o1 K1 1 10", "web o2 K2 1 15"}, nil, []string{"record o1 K1 2 8"}},
		{"returns cancel last night's order",
			[]string{"web o1 K1 1 10", "web o5 K5 1 3"}, nil, []string{"record o1 K1 2 0"}},
		{"a later event of an order keeps its first time, amount and customer",
			[]string{"app o1 K1 1 10"}, nil, []string{"app o1 K2 2 12", "web o3 K3 2 5"}},
		{"an earlier event of an order, landed late, becomes its first",
			[]string{"web o1 K1 3 10"}, nil, []string{"web o1 K2 2 9"}},
		{"a rerun drops what the earlier attempt added and tonight lacks",
			[]string{"store r1 K1 1 30"}, []string{"web o2 K2 2 20", "store r2 K2 2 40", "record o1 K1 2 5"}, []string{"web o4 K4 2 7"}},
		{"a store receipt and a web order of the same id are two orders",
			[]string{"web x1 K1 1 10"}, nil, []string{"store x1 K2 2 50"}},
		{"a night without orders changes none",
			[]string{"web o1 K1 1 10", "store r1 K2 1 20"}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			wh, conn := whtest.OpenConn(t, nil)
			exec := func(q string) { t.Helper(); whtest.Exec(t, conn, q) }
			build := func(all bool) {
				t.Helper()
				if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.orders.sql", Section: "build"}, sql.Named("all", all)); err != nil {
					t.Fatal(err)
				}
			}
			touched := func() {
				t.Helper()
				if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "analytics.orders.sql", Section: "touched"}); err != nil {
					t.Fatal(err)
				}
			}
			exec(`CREATE SCHEMA IF NOT EXISTS kind; CREATE TABLE kind.events (_run_id VARCHAR); CREATE TABLE kind.orders (_run_id VARCHAR)`)
			for _, f := range tc.before {
				exec(factSQL(t, f, "b1"))
			}
			for _, f := range tc.rerun {
				exec(factSQL(t, f, "b2"))
			}
			build(true) // the orders last night (and an earlier attempt of tonight's) left
			// Tonight's landing holds batch b2; the split replaces its facts.
			exec(`INSERT INTO kind.events VALUES ('b2'); INSERT INTO kind.orders VALUES ('b2')`)
			touched()
			for _, t := range HotTables() {
				if t == "web_events" || t == "app_events" || t == "store_receipts" || t == "order_records" {
					exec("DELETE FROM analytics." + t + " WHERE _batch = 'b2'")
				}
			}
			for _, f := range tc.now {
				exec(factSQL(t, f, "b2"))
			}
			touched()
			build(false)
			got := whtest.Strings(t, conn, ordersQuery)
			build(true)
			want := whtest.Strings(t, conn, ordersQuery)
			if !slices.Equal(got, want) {
				t.Fatalf("the batch's orders recomputed:\n%s\nrebuilt whole:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(want) == 0 {
				t.Fatal("no order at all: the case tests nothing")
			}
		})
	}
}

// ordersQuery lists analytics.orders, one line per row, sorted.
const ordersQuery = "SELECT CAST(o AS VARCHAR) FROM analytics.orders o ORDER BY 1"

// factSQL inserts fact "table id customer day amount" of batch b.
func factSQL(t *testing.T, fact, b string) string {
	t.Helper()
	var table, id, customer string
	var day int
	var amount float64
	if _, err := fmt.Sscanf(fact, "%s %s %s %d %g", &table, &id, &customer, &day, &amount); err != nil {
		t.Fatalf("fact %q: %v", fact, err)
	}
	ts := fmt.Sprintf("TIMESTAMPTZ '2026-11-%02d 12:00:00+00'", day)
	common := fmt.Sprintf("%s AS ts, CAST(%s AS DATE) AS event_date, '%s' AS customer_key, %g AS amount, '%s' AS _batch, 'src' AS _source",
		ts, ts, customer, amount, b)
	switch table {
	case "web", "app":
		return fmt.Sprintf(`INSERT INTO analytics.%s_events BY NAME SELECT '%s-%s-%d' AS event_id, 'purchase' AS event, '%s' AS order_id, %s`,
			table, id, customer, day, id, common)
	case "store":
		return fmt.Sprintf(`INSERT INTO analytics.store_receipts BY NAME SELECT '%s' AS receipt_id, 's1' AS store_id, %s`, id, common)
	case "record":
		return fmt.Sprintf(`INSERT INTO analytics.order_records BY NAME SELECT '%s' AS order_id, 'web' AS channel, %s`, id, common)
	}
	t.Fatalf("fact %q: unknown table", fact)
	return ""
}
