package segments

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/parcours/parcours/internal/warehouse"
)

// benchGroups scales the planted groups to n customers in all.
func benchGroups(n int) []plantedGroup {
	gs := plantedGroups()
	total := 0
	for _, g := range gs {
		total += g.size
	}
	for i := range gs {
		gs[i].size = gs[i].size * n / total
	}
	return gs
}

// BenchmarkMicro100k: k in 2..8 chosen on a 50,000-customer sample
// (silhouette on 5,000), then 100,000 customers assigned and described.
func BenchmarkMicro100k(b *testing.B) {
	in, _ := plant(benchGroups(100_000), 1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Micro(context.Background(), in, DefaultOptions(), 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompute100k is the whole job on 100,000 consented purchasers
// with 5 orders each, both scores and features: every family, the hot and
// cold writes and the diff.
func BenchmarkCompute100k(b *testing.B) {
	w := newWorld(b)
	const n = 100_000
	w.exec(`INSERT INTO consent.intervals
SELECT 'c' || i, 'analytics', TIMESTAMPTZ '2025-01-01 00:00:00+00', NULL, 'open', 'g' || i, 'bench' FROM range(?) t(i)`, n)
	w.exec(`INSERT INTO analytics.orders
SELECT 'o' || i || '-' || j, 'web', 'c' || i, CAST(d AS TIMESTAMPTZ), d, 5 + hash(i, j) % 200, NULL, NULL
FROM (SELECT i, j, DATE '2026-06-10' - CAST(hash(i, j, 'd') % 500 AS INTEGER) AS d FROM range(?) a(i), range(5) b(j))`, n)
	w.exec(`INSERT INTO analytics.clv_scores
SELECT DATE '2026-06-10', 'c' || i, 'clv-1', 0.9, (hash(i, 'p') % 1000) / 1000.0, 1, 4, 50, hash(i, 'v') % 5000 FROM range(?) t(i)`, n)
	w.exec(`INSERT INTO analytics.churn_scores
SELECT DATE '2026-06-10', 'c' || i, 'churn-1', (hash(i, 'c') % 1000) / 1000.0, 'low', NULL, NULL, NULL, NULL FROM range(?) t(i)`, n)
	in, _ := plant(benchGroups(n), 1)
	rows := make([][]any, len(in.Customers))
	for i := range rows {
		v := in.Values[i]
		var open any
		if !math.IsNaN(v[8]) {
			open = v[8]
		}
		rows[i] = []any{"2026-06-11", "c" + strconv.Itoa(i), v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], open}
	}
	err := warehouse.InsertRows(context.Background(), w.wh.DB, `INSERT INTO analytics.customer_features (cutoff, customer_key,
  recency_days, frequency_365d, monetary_365d, avg_basket, share_web, share_app, share_store, sessions_90d, email_open_rate_90d) VALUES`,
		"", rows)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		w.compute(runDay)
	}
}
