package triggers

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkEvaluate evaluates one night over a synthetic warehouse:
// 100k customers, 1M web and 200k app events over the last 10 days,
// 150k orders, 20k contacts, segments and opt-outs. The data is derived
// from hash() of the row number, so every run sees the same rows.
func BenchmarkEvaluate(b *testing.B) {
	const customers, webEvents, appEvents = 100_000, 1_000_000, 200_000
	w := newWorld(b)
	end := w.ts(0)
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO analytics.web_events (event_id, ts, event_date, customer_key, session_id, event, product_id, category, _batch)
SELECT 'w' || i, TIMESTAMPTZ '%[1]s' - to_seconds(CAST(hash(i * 7 + 1) %% 864000 AS BIGINT)), DATE '2026-06-10',
       'c' || (hash(i * 7 + 2) %% %[2]d), NULL,
       (['page_view', 'product_view', 'product_view', 'product_view', 'add_to_cart', 'checkout_start'])[1 + CAST(hash(i * 7 + 3) %% 6 AS INTEGER)],
       'p' || (hash(i * 7 + 4) %% 500), 'cat' || (hash(i * 7 + 5) %% 12), 'r'
FROM range(%[3]d) t(i)`, end, customers, webEvents),
		fmt.Sprintf(`INSERT INTO analytics.app_events (event_id, ts, event_date, customer_key, event, product_id, category, _batch)
SELECT 'a' || i, TIMESTAMPTZ '%[1]s' - to_seconds(CAST(hash(i * 5 + 1) %% 864000 AS BIGINT)), DATE '2026-06-10',
       'c' || (hash(i * 5 + 2) %% %[2]d),
       (['product_view', 'product_view', 'add_to_cart'])[1 + CAST(hash(i * 5 + 3) %% 3 AS INTEGER)],
       'p' || (hash(i * 5 + 4) %% 500), 'cat' || (hash(i * 5 + 5) %% 12), 'r'
FROM range(%[3]d) t(i)`, end, customers, appEvents),
		fmt.Sprintf(`INSERT INTO analytics.orders
SELECT 'o' || i, 'web', 'c' || (hash(i * 3 + 1) %% %[2]d), TIMESTAMPTZ '%[1]s' - to_seconds(CAST(hash(i * 3 + 2) %% 2592000 AS BIGINT)),
       DATE '2026-06-10', 40, NULL, 1
FROM range(150000) t(i)`, end, customers),
		fmt.Sprintf(`INSERT INTO analytics.contacts
SELECT 'k' || i, TIMESTAMPTZ '%[1]s' - to_seconds(CAST(hash(i * 3 + 1) %% 604800 AS BIGINT)), DATE '2026-06-10',
       'c' || (hash(i * 3 + 2) %% %[2]d), 'delivery', 60, hash(i * 3 + 3) %% 3 = 0, 3, 'ag', 'r'
FROM range(20000) t(i)`, end, customers),
		fmt.Sprintf(`INSERT INTO consent.intervals
SELECT 'c' || i, 'marketing_email', TIMESTAMPTZ '2026-01-01 00:00:00+00', NULL, 'open', 'g' || i, 'bench'
FROM range(%d) t(i) WHERE i %% 10 <> 0`, customers),
		fmt.Sprintf(`INSERT INTO analytics.segment_members
SELECT DATE '2026-06-09', f, CASE WHEN f = 'rfm' THEN (['at_risk', 'cant_lose_them', 'champions'])[1 + i %% 3]
                                 ELSE (['high_value_high_risk', 'low_value_high_risk'])[1 + i %% 2] END,
       'c' || i, 0.5, '{}'
FROM range(%d) t(i), (VALUES ('rfm'), ('value_risk')) v(f)`, customers),
		fmt.Sprintf(`INSERT INTO identity.customer_map SELECT 'tok' || i, 'customer_id', 'c' || i, false FROM range(%d) t(i)`, customers),
		fmt.Sprintf(`INSERT INTO consent.trigger_optouts
SELECT 'x' || i, 'tok' || (i * 97 %% %d), (['cart_abandonment', 'browse_abandonment', 'post_contact', 'win_back'])[1 + i %% 4],
       (['opt_out', 'opt_in'])[1 + i %% 2], TIMESTAMPTZ '2026-05-01 00:00:00+00' + to_seconds(i), 'r'
FROM range(4000) t(i)`, customers),
	} {
		if _, err := w.wh.DB.Exec(q); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
	ctx := context.Background()
	conn, err := w.wh.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	loc := paris(b)
	b.ResetTimer()
	var res Result
	for b.Loop() {
		if res, err = Evaluate(ctx, w.wh, conn, day(runDay), loc, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var fired, candidates int64
	for _, n := range Names() {
		fired += res.Fires[n]
		candidates += res.Candidates(n)
	}
	b.ReportMetric(float64(candidates), "candidates")
	b.ReportMetric(float64(fired), "fires")
}
