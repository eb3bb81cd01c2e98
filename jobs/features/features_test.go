package features

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/parcours/parcours/internal/warehouse"
)

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

func openWH(t *testing.T) *warehouse.Warehouse {
	t.Helper()
	return whtest.Open(t, nil)
}

func exec(t *testing.T, wh *warehouse.Warehouse, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := wh.DB.Exec(q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
}

// history plants a small history for customer "a" before 2026-06-01 and
// returns statements adding events on and after that day.
func history(t *testing.T, wh *warehouse.Warehouse) (later []string) {
	exec(t, wh,
		`INSERT INTO analytics.orders VALUES
  ('o1', 'store', 'a', '2026-01-10 10:00:00+00', '2026-01-10', 100, 20, 2),
  ('o2', 'web',   'a', '2026-05-02 10:00:00+00', '2026-05-02', 50, NULL, NULL),
  ('o3', 'app',   'b', '2025-03-01 10:00:00+00', '2025-03-01', 10, NULL, NULL)`,
		`INSERT INTO analytics.store_receipts VALUES ('o1', 'S1', '2026-01-10 10:00:00+00', '2026-01-10', 'a', [], 2, 100, 20, 'card', 'r', NULL)`,
		`INSERT INTO analytics.web_events (event_id, ts, event_date, customer_key, session_id, event, _batch) VALUES
  ('w1', '2026-05-20 10:00:00+00', '2026-05-20', 'a', 's1', 'product_view', 'r'),
  ('w2', '2026-05-20 10:01:00+00', '2026-05-20', 'a', 's1', 'add_to_cart', 'r'),
  ('w3', '2026-04-01 10:00:00+00', '2026-04-01', 'a', 's2', 'page_view', 'r')`,
		`INSERT INTO analytics.email_events VALUES
  ('e1', 'c1', '2026-05-01 10:00:00+00', '2026-05-01', 'a', 'send', 'r', NULL),
  ('e2', 'c1', '2026-05-01 11:00:00+00', '2026-05-01', 'a', 'open', 'r', NULL),
  ('e3', 'c2', '2026-05-10 10:00:00+00', '2026-05-10', 'a', 'send', 'r', NULL),
  ('e4', 'c2', '2026-05-11 10:00:00+00', '2026-05-11', 'a', 'unsubscribe', 'r', NULL)`,
		`INSERT INTO analytics.contacts VALUES
  ('k1', '2026-05-25 10:00:00+00', '2026-05-25', 'a', 'billing', 60, false, 6, 'ag', 'r', NULL),
  ('k2', '2026-02-01 10:00:00+00', '2026-02-01', 'a', 'product', 60, true, 2, 'ag', 'r', NULL)`,
		`INSERT INTO analytics.survey_responses VALUES ('v1', '2026-05-03 10:00:00+00', '2026-05-03', 'a', 3, 2, 'meh', 'web', 'r', NULL)`,
	)
	return []string{
		`INSERT INTO analytics.orders VALUES ('o9', 'web', 'a', '2026-06-01 00:30:00+00', '2026-06-01', 999, NULL, NULL)`,
		`INSERT INTO analytics.web_events (event_id, ts, event_date, customer_key, session_id, event, _batch) VALUES
  ('w9', '2026-06-01 09:00:00+00', '2026-06-01', 'a', 's9', 'add_to_cart', 'r')`,
		`INSERT INTO analytics.contacts VALUES ('k9', '2026-06-02 10:00:00+00', '2026-06-02', 'a', 'billing', 60, false, 7, 'ag', 'r', NULL)`,
		`INSERT INTO analytics.survey_responses VALUES ('v9', '2026-06-03 10:00:00+00', '2026-06-03', 'a', 10, 5, 'great', 'web', 'r', NULL)`,
		`INSERT INTO analytics.email_events VALUES ('e9', 'c9', '2026-06-01 10:00:00+00', '2026-06-01', 'a', 'click', 'r', NULL)`,
		`UPDATE analytics.web_events SET event = 'purchase' WHERE event_id = 'w9'`,
	}
}

// builtHistory is the test history with its features built at 2026-06-01.
func builtHistory(t *testing.T) (context.Context, *warehouse.Warehouse, *sql.Conn, time.Time) {
	t.Helper()
	wh := openWH(t)
	history(t, wh)
	ctx := context.Background()
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	cut := day("2026-06-01")
	if _, err := Build(ctx, wh, conn, cut); err != nil {
		t.Fatal(err)
	}
	return ctx, wh, conn, cut
}

func TestFeatureValues(t *testing.T) {
	ctx, wh, conn, cut := builtHistory(t)
	tab, err := Load(ctx, wh, conn, cut, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Customers) != 2 || tab.Customers[0] != "a" {
		t.Fatalf("customers %v", tab.Customers)
	}
	get := func(cust int, name string) float64 {
		for j, n := range tab.Names {
			if n == name {
				return tab.Row(cust)[j]
			}
		}
		t.Fatalf("no feature %s", name)
		return 0
	}
	nan := math.NaN()
	for _, tc := range []struct {
		cust int
		name string
		want float64
	}{
		{0, "recency_days", 30}, {0, "frequency_90d", 1}, {0, "frequency_365d", 2},
		{0, "interpurchase_days", 112}, {0, "recency_ratio", 30.0 / 112}, {0, "days_since_last_visit", 12},
		{0, "days_since_email_open", 31}, {1, "interpurchase_days", nan}, {1, "days_since_last_visit", nan}, {0, "monetary_365d", 150}, {0, "orders_total", 2},
		{0, "tenure_days", 142}, {0, "avg_basket", 75}, {0, "discount_share", 20.0 / 120},
		{0, "share_web", 0.5}, {0, "share_store", 0.5}, {0, "share_app", 0},
		{0, "sessions_30d", 1}, {0, "sessions_90d", 2}, {0, "product_views_30d", 1}, {0, "cart_abandons_30d", 1},
		{0, "email_sends_90d", 2}, {0, "email_open_rate_90d", 0.5}, {0, "email_click_rate_90d", 0}, {0, "unsubscribes_90d", 1},
		{0, "contacts_90d", 1}, {0, "unresolved_contacts_90d", 1}, {0, "days_since_last_contact", 7},
		{0, "last_nps", 3}, {0, "last_csat", 2}, {0, "last_ces", 6},
		{1, "recency_days", 457}, {1, "frequency_365d", 0}, {1, "email_open_rate_90d", nan}, {1, "last_nps", nan},
	} {
		got := get(tc.cust, tc.name)
		if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-9) {
			t.Errorf("customer %s %s = %v, want %v", tab.Customers[tc.cust], tc.name, got, tc.want)
		}
	}
}

// Events on or after the cut-off day never change that cut-off's features.
func TestNoLeakage(t *testing.T) {
	wh := openWH(t)
	later := history(t, wh)
	ctx := context.Background()
	conn, _ := wh.Conn(ctx)
	defer conn.Close()
	cut := day("2026-06-01")
	snapshot := func() string {
		if _, err := Build(ctx, wh, conn, cut); err != nil {
			t.Fatal(err)
		}
		tab, err := Load(ctx, wh, conn, cut, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(tab.Customers, tab.Values)
	}
	before := snapshot()
	exec(t, wh, later...)
	if after := snapshot(); after != before {
		t.Fatalf("features moved with events after the cut-off:\n%s\n%s", before, after)
	}
	labels, err := Labels(ctx, wh, conn, cut, 90)
	if err != nil {
		t.Fatal(err)
	}
	if labels["a"] != 0 || labels["b"] != 1 {
		t.Fatalf("labels %v", labels)
	}
	// The same events before the cut-off do move them (the test can fail).
	if moved := func() string {
		exec(t, wh, `UPDATE analytics.orders SET order_date = '2026-05-31' WHERE order_id = 'o9'`)
		return snapshot()
	}(); moved == before {
		t.Fatal("an order before the cut-off did not change the features")
	}
}

// The training sample a merge keeps from the shards' samples is the one a
// single node keeps, and Load's limit is that sample.
func TestTrainSample(t *testing.T) {
	ctx, wh, conn, cut := builtHistory(t)
	tab, err := Load(ctx, wh, conn, cut, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Customers) != 1 || tab.Customers[0] != "a" || len(tab.Values) != len(tab.Names) {
		t.Fatalf("limit 1: customers %v, %d values", tab.Customers, len(tab.Values))
	}
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE f AS
		SELECT DATE '2026-06-01' + (i % 2)::INT AS cutoff, md5(i::VARCHAR) AS customer_key, i % 4 AS shard
		FROM range(2000) t(i)`); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 1, 37, 400, 999, 1000, 5000} {
		q := func(sql string) []string {
			rows, err := conn.QueryContext(ctx, sql)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var c, k string
				if err := rows.Scan(&c, &k); err != nil {
					t.Fatal(err)
				}
				out = append(out, c+" "+k)
			}
			return out
		}
		single := q("SELECT cutoff::VARCHAR, customer_key FROM f" + SampleClause(limit) + " ORDER BY ALL")
		merged := q("SELECT cutoff::VARCHAR, customer_key FROM (SELECT * FROM f WHERE shard = 0" + SampleClause(limit) +
			" UNION ALL SELECT * FROM f WHERE shard = 1" + SampleClause(limit) +
			" UNION ALL SELECT * FROM f WHERE shard = 2" + SampleClause(limit) +
			" UNION ALL SELECT * FROM f WHERE shard = 3" + SampleClause(limit) + ")" + SampleClause(limit) + " ORDER BY ALL")
		want := min(limit, 1000) * 2
		if limit == 0 {
			want = 2000
		}
		if len(single) != want || strings.Join(single, ",") != strings.Join(merged, ",") {
			t.Errorf("limit %d: single node keeps %d rows, merge %d, want %d and the same rows", limit, len(single), len(merged), want)
		}
	}
}
