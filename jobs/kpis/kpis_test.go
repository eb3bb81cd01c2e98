package kpis

import (
	"context"
	"database/sql"
	"math"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/ingest"
)

func openWH(t *testing.T) *warehouse.Warehouse {
	t.Helper()
	wh := whtest.Open(t, nil)
	// The landing tables and kind views ingest makes (marketing spend).
	if err := ingest.Prepare(context.Background(), wh, nil); err != nil {
		t.Fatal(err)
	}
	return wh
}

func exec(t *testing.T, wh *warehouse.Warehouse, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := wh.DB.Exec(q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
}

// A small hand-built cold store; every expected value below is computed by
// hand from these rows (k = 10).
func plant(t *testing.T, wh *warehouse.Warehouse) {
	exec(t, wh,
		// NPS: promoters 9-10, passives 7-8, detractors 0-6.
		// web/north: score 10 x 6, 8 x 4, 3 x 5  -> 15 responses, NPS = 100*(6-5)/15 = 6.667
		// web/south: score 9 x 10, 6 x 2          -> 12 responses, NPS = 100*(10-2)/12 = 66.667
		// all/all: promoters 16, detractors 7, n 27 -> NPS = 100*9/27 = 33.333
		`INSERT INTO cold.survey_scores VALUES
  ('2026-05-01', 'web', 'north', '30-39', 'nps', 10, 12, 6),
  ('2026-05-01', 'web', 'north', '30-39', 'nps', 8, 12, 4),
  ('2026-05-01', 'web', 'north', '30-39', 'nps', 3, 12, 5),
  ('2026-05-01', 'web', 'south', 'other', 'nps', 9, 11, 10),
  ('2026-05-01', 'web', 'south', 'other', 'nps', 6, 11, 2)`,
		// CSAT store/north: 5 x 7, 4 x 5, 2 x 8 -> 12/20 = 0.6
		`INSERT INTO cold.survey_scores VALUES
  ('2026-05-01', 'store', 'north', '40-49', 'csat', 5, 10, 7),
  ('2026-05-01', 'store', 'north', '40-49', 'csat', 4, 10, 5),
  ('2026-05-01', 'store', 'north', '40-49', 'csat', 2, 10, 8)`,
		// CES call centre: 2 x 10, 5 x 6, 7 x 4 -> (20+30+28)/20 = 3.9
		`INSERT INTO cold.survey_scores VALUES
  ('2026-05-01', 'call_center', 'north', 'other', 'ces', 2, 10, 10),
  ('2026-05-01', 'call_center', 'north', 'other', 'ces', 5, 10, 6),
  ('2026-05-01', 'call_center', 'north', 'other', 'ces', 7, 10, 4)`,
		// Funnel 2026-05-03: web desktop 200 visits, 50 carts, 20 purchases; web mobile 100, 30, 4;
		// app ios 50 visits, 10 carts, 6 purchases.
		// web: conversion 24/300 = 0.08, abandonment 1 - 24/80 = 0.7; app: 0.12, 0.4;
		// all: 30/350, 1 - 30/90.
		`INSERT INTO cold.funnel_daily VALUES
  ('2026-05-03', 'web', 'desktop', 40, 200, 150, 50, 30, 20),
  ('2026-05-03', 'web', 'mobile', 25, 100, 70, 30, 10, 4),
  ('2026-05-03', 'app', 'ios', 12, 50, 45, 10, 8, 6)`,
		// New customers in May: 12 via paid_search, 20 via social, 3 via display (under k), 15 via store.
		`INSERT INTO ops.cold_cohorts (member, cohort_month, batch, first_day, acquired_via)
  SELECT 'm' || i, DATE '2026-05-01', 'b', DATE '2026-05-03',
         CASE WHEN i <= 12 THEN 'paid_search' WHEN i <= 32 THEN 'social' WHEN i <= 35 THEN 'display' ELSE 'store' END
  FROM range(1, 51) r(i)`,
		// Spend in May: paid_search 300 + 300 (the second delivery of the 2nd corrects 200),
		// social 400, display 90. CAC paid_search = 600/12 = 50, social = 400/20 = 20,
		// all = (600+400+90)/50 = 21.8; display under k: no row.
		`INSERT INTO landing.marketing_spend (date, channel, spend, _load_date) VALUES
  ('2026-05-01', 'paid_search', 300, '2026-05-02'),
  ('2026-05-02', 'paid_search', 200, '2026-05-03'),
  ('2026-05-02', 'paid_search', 300, '2026-05-04'),
  ('2026-05-01', 'social', 400, '2026-05-02'),
  ('2026-05-01', 'display', 90, '2026-05-02')`,
		// Activity: revenue and basket.
		`INSERT INTO cold.daily_activity VALUES
  ('2026-05-03', 'web', 'north', 30, 100, 40, 2000.00),
  ('2026-05-03', 'web', 'south', 15, 50, 10, 500.00),
  ('2026-05-03', 'store', 'north', 20, 20, 25, 1250.00)`,
	)
}

func TestKPIsMatchHandComputation(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	ctx := context.Background()
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := Publish(ctx, wh, conn, 10, "2026-05-31"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		period, start, channel, region, kpi string
		want                                float64
	}{
		{"month", "2026-05-01", "web", "north", "nps", 100.0 / 15},
		{"month", "2026-05-01", "web", "south", "nps", 100.0 * 8 / 12},
		{"month", "2026-05-01", "all", "all", "nps", 100.0 * 9 / 27},
		{"month", "2026-05-01", "store", "north", "csat", 0.6},
		{"month", "2026-05-01", "call_center", "all", "ces", 3.9},
		{"day", "2026-05-03", "web", "all", "conversion_rate", 0.08},
		{"day", "2026-05-03", "app", "all", "conversion_rate", 0.12},
		{"day", "2026-05-03", "all", "all", "conversion_rate", 30.0 / 350},
		{"day", "2026-05-03", "web", "all", "cart_abandonment_rate", 0.7},
		{"day", "2026-05-03", "app", "all", "cart_abandonment_rate", 0.4},
		{"day", "2026-05-03", "all", "all", "cart_abandonment_rate", 1 - 30.0/90},
		{"month", "2026-05-01", "paid_search", "all", "cac", 50},
		{"month", "2026-05-01", "social", "all", "cac", 20},
		{"month", "2026-05-01", "all", "all", "cac", 21.8},
		{"month", "2026-05-01", "store", "all", "new_customers", 15},
		{"day", "2026-05-03", "all", "all", "new_customers", 50},
		{"day", "2026-05-03", "web", "all", "revenue", 2500},
		{"day", "2026-05-03", "all", "all", "average_basket", 3750.0 / 75},
		{"day", "2026-05-03", "web", "all", "active_customers", 45},
	}
	for _, c := range cases {
		var got float64
		err := conn.QueryRowContext(ctx, `SELECT value FROM cold.kpis
WHERE period = ? AND period_start = ? AND channel = ? AND region = ? AND kpi = ?`,
			c.period, c.start, c.channel, c.region, c.kpi).Scan(&got)
		if err != nil {
			t.Errorf("%s %s %s/%s: %v", c.kpi, c.start, c.channel, c.region, err)
			continue
		}
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s %s %s/%s = %v, want %v", c.kpi, c.start, c.channel, c.region, got, c.want)
		}
	}
	// Under k: no CAC for display (3 new customers); no active_customers
	// for channel 'all' (customers of different channels overlap).
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM cold.kpis
WHERE (kpi IN ('cac', 'new_customers') AND channel = 'display') OR (kpi = 'active_customers' AND channel = 'all')
   OR customers < 10`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d KPI rows under k or without an exact customer count", n)
	}
	// Funnel drop-off: web cart -> checkout loses 1 - 40/80 = 0.5.
	var drop float64
	if err := conn.QueryRowContext(ctx, `SELECT drop_off FROM cold.funnel_dropoff
WHERE month = '2026-05-01' AND channel = 'web' AND step = 'checkout'`).Scan(&drop); err != nil {
		t.Fatal(err)
	}
	if math.Abs(drop-0.5) > 1e-12 {
		t.Errorf("web checkout drop-off = %v, want 0.5", drop)
	}
}

// Transitions from hand-built paths: a > b (3 conversions, 7 nulls, 12
// customers) and b (10 conversions, 0 nulls, 15 customers).
func TestChannelTransitions(t *testing.T) {
	wh := openWH(t)
	exec(t, wh, `INSERT INTO cold.conversion_paths VALUES
  ('2026-05-01', 'a > b', 2, 12, 3, 30, 7),
  ('2026-05-01', 'b', 1, 15, 10, 100, 0),
  ('2026-05-01', '(other)', 0, 40, 50, 500, 9)`)
	ctx := context.Background()
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := Publish(ctx, wh, conn, 10, "2026-05-31"); err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]int64{
		{"start", "a"}: 10, {"start", "b"}: 10, {"a", "b"}: 10,
		{"b", "conversion"}: 13, {"b", "no_conversion"}: 7,
	}
	rows, err := conn.QueryContext(ctx, "SELECT from_channel, to_channel, transitions FROM cold.channel_transitions")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[[2]string]int64{}
	for rows.Next() {
		var f, to string
		var n int64
		if err := rows.Scan(&f, &to, &n); err != nil {
			t.Fatal(err)
		}
		got[[2]string{f, to}] = n
	}
	if len(got) != len(want) {
		t.Errorf("transitions = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s -> %s = %d, want %d", k[0], k[1], got[k], v)
		}
	}
}

// TestReturnOnSpend: the May spend of plant (paid_search 600, social 400,
// display 90) beside hand-built credits. last_touch credits paid_search
// 20 conversions / 1,200 revenue, email 10 / 500 (no spend), 'other
// channels' 4 / 100 (display was rolled into it: it has converting
// customers in May) and '(unattributed)' 3 / 30; social converted no one.
// markov_order_1 credits paid_search 24 / 1,500 only.
func TestReturnOnSpend(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	exec(t, wh, `INSERT INTO cold.attribution VALUES
  ('2026-05-01', 'last_touch', 'paid_search', 20, 1200, 15),
  ('2026-05-01', 'last_touch', 'email', 10, 500, 12),
  ('2026-05-01', 'last_touch', 'other channels', 4, 100, 10),
  ('2026-05-01', 'last_touch', '(unattributed)', 3, 30, 11),
  ('2026-05-01', 'markov_order_1', 'paid_search', 24, 1500, 15)`,
		`INSERT INTO ops.cold_contrib_path_channels VALUES
  ('b', '2026-05-01', 'paid_search', 15), ('b', '2026-05-01', 'email', 12), ('b', '2026-05-01', 'display', 3)`)
	ctx := context.Background()
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := Publish(ctx, wh, conn, 10, "2026-05-31"); err != nil {
		t.Fatal(err)
	}
	nan := math.NaN() // NULL
	type row struct{ spend, conv, rev, roas, cpa, newc, cac, customers float64 }
	want := map[string]row{
		// roas 1200/600 = 2, cost per conversion 600/20 = 30, CAC 600/12 = 50
		"last_touch/paid_search": {600, 20, 1200, 2, 30, 12, 50, 15},
		"last_touch/email":       {0, 10, 500, nan, nan, nan, nan, 12},
		// display's 90 pays into the row its credit was rolled into
		"last_touch/other channels": {90, 4, 100, 100.0 / 90, 22.5, nan, nan, 10},
		"last_touch/social":         {400, 0, 0, 0, nan, 20, 20, nan},
		// 1500/600 = 2.5, 600/24 = 25
		"markov_order_1/paid_search": {600, 24, 1500, 2.5, 25, 12, 50, 15},
		"markov_order_1/social":      {400, 0, 0, 0, nan, 20, 20, nan},
		// no 'other channels' in this model: display's spend stands alone
		"markov_order_1/display": {90, 0, 0, 0, nan, nan, nan, nan},
	}
	rs, err := conn.QueryContext(ctx, `SELECT model || '/' || channel, spend, conversions, revenue, roas, cost_per_conversion,
  new_customers, cac, customers FROM cold.return_on_spend WHERE month = '2026-05-01'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	seen := 0
	for rs.Next() {
		var key string
		var v [8]sql.NullFloat64
		if err := rs.Scan(&key, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]); err != nil {
			t.Fatal(err)
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected row %s %+v", key, v)
			continue
		}
		seen++
		for i, x := range []float64{w.spend, w.conv, w.rev, w.roas, w.cpa, w.newc, w.cac, w.customers} {
			if math.IsNaN(x) != !v[i].Valid || (v[i].Valid && math.Abs(v[i].Float64-x) > 1e-9) {
				t.Errorf("%s column %d = %+v, want %v", key, i, v[i], x)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d rows, want %d", seen, len(want))
	}
}
