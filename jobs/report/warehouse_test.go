package report

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/models/clv"
	"github.com/parcours/parcours/models/eval"
)

// reportDay is the logical date of the hand-built warehouse.
const reportDay = "2026-06-10"

// Personal data planted in hot and ops tables: none of it may reach the HTML.
const (
	plantedKey     = "ck-PLANTED-7f3a9c"
	plantedEmail   = "jane.doe.planted@example.com"
	plantedSubject = "abc123def456"
	plantedRequest = "req-PLANTED-42"
)

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

func openWH(t testing.TB) *warehouse.Warehouse {
	t.Helper()
	return whtest.Open(t, nil)
}

func exec(t testing.TB, wh *warehouse.Warehouse, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := wh.DB.Exec(q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
}

// segmentProfilesDDL is cold.segment_profiles as the task describes it; the
// segments job that will own it has no SQL file yet.
const segmentProfilesDDL = `CREATE TABLE IF NOT EXISTS cold.segment_profiles (
    computed_on DATE NOT NULL, family VARCHAR NOT NULL, segment VARCHAR NOT NULL,
    customers BIGINT NOT NULL, description VARCHAR, profile JSON)`

// churnY and churnP are a small holdout whose ROC AUC is 20/24 by hand:
// positives at ranks 1, 2, 4 and 7 of 10 beat 6 + 6 + 5 + 3 of the 6
// negatives' 24 pairs.
func churnHoldout() (y, p []float64) {
	return []float64{1, 1, 0, 1, 0, 0, 1, 0, 0, 0},
		[]float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05}
}

// plant fills a warehouse with hand-built rows for reportDay (2026-06-10).
// Every expected figure in the tests is computed by hand from these rows.
func plant(t testing.TB, wh *warehouse.Warehouse) {
	t.Helper()
	exec(t, wh,
		// Daily KPIs, channel 'all', region 'all'.
		// revenue: D 1200; D-1..D-5 1000, 1100, 900, 1000, 1000 -> mean 1000 -> +20%.
		// D-8 (outside the week) and a 'web' row on D must not count.
		`INSERT INTO cold.kpis VALUES
  ('day', '2026-06-10', 'all', 'all', 'revenue', 1200, NULL, NULL, 40),
  ('day', '2026-06-09', 'all', 'all', 'revenue', 1000, NULL, NULL, 40),
  ('day', '2026-06-08', 'all', 'all', 'revenue', 1100, NULL, NULL, 40),
  ('day', '2026-06-07', 'all', 'all', 'revenue', 900, NULL, NULL, 40),
  ('day', '2026-06-06', 'all', 'all', 'revenue', 1000, NULL, NULL, 40),
  ('day', '2026-06-05', 'all', 'all', 'revenue', 1000, NULL, NULL, 40),
  ('day', '2026-06-02', 'all', 'all', 'revenue', 5000, NULL, NULL, 40),
  ('day', '2026-06-10', 'web', 'all', 'revenue', 99999, NULL, NULL, 40)`,
		// orders: D 30, each of the 7 days before 20 -> +50%.
		`INSERT INTO cold.kpis SELECT 'day', DATE '2026-06-10' - CAST(i AS INTEGER), 'all', 'all', 'orders', CASE WHEN i = 0 THEN 30 ELSE 20 END, NULL, NULL, 40
  FROM range(0, 8) r(i)`,
		// average basket: D 1200/30 = 40; before: (1000 + 1100) / (25 + 20) = 46.667 -> 40/46.667 - 1 = -1/7.
		`INSERT INTO cold.kpis VALUES
  ('day', '2026-06-10', 'all', 'all', 'average_basket', 40, 1200, 30, 40),
  ('day', '2026-06-09', 'all', 'all', 'average_basket', 40, 1000, 25, 40),
  ('day', '2026-06-08', 'all', 'all', 'average_basket', 55, 1100, 20, 40)`,
		// conversion: D 50/1000 = 0.05; before pooled (40 + 30) / (1000 + 500) = 0.04667 -> +0.333 pt
		// (the mean of the daily rates, 0.05, would say +0).
		`INSERT INTO cold.kpis VALUES
  ('day', '2026-06-10', 'all', 'all', 'conversion_rate', 0.05, 50, 1000, 40),
  ('day', '2026-06-09', 'all', 'all', 'conversion_rate', 0.04, 40, 1000, 40),
  ('day', '2026-06-07', 'all', 'all', 'conversion_rate', 0.06, 30, 500, 40)`,
		// abandonment: D 0.7, before 0.6 -> +10 pt, a bad change.
		`INSERT INTO cold.kpis VALUES
  ('day', '2026-06-10', 'all', 'all', 'cart_abandonment_rate', 0.7, 70, 100, 40),
  ('day', '2026-06-08', 'all', 'all', 'cart_abandonment_rate', 0.6, 60, 100, 40)`,
		// new customers: none on D.
		`INSERT INTO cold.kpis VALUES ('day', '2026-06-09', 'all', 'all', 'new_customers', 12, NULL, NULL, 12)`,
		// Monthly survey scores; 2025-01 is outside the 12 months.
		`INSERT INTO cold.kpis VALUES
  ('month', '2026-04-01', 'all', 'all', 'nps', 25, 5, 20, 20),
  ('month', '2026-05-01', 'all', 'all', 'nps', 30, 6, 20, 20),
  ('month', '2026-05-01', 'all', 'all', 'csat', 0.8, 16, 20, 20),
  ('month', '2026-05-01', 'all', 'all', 'ces', 3.2, 64, 20, 20),
  ('month', '2025-01-01', 'all', 'all', 'nps', -80, 5, 20, 20)`,
		// Funnel: May 2026 is the latest complete month on 2026-06-10; June is partial.
		`INSERT INTO cold.funnel_dropoff VALUES
  ('2026-05-01', 'web', 'visit', 1, 1000, 1.0, NULL, 50),
  ('2026-05-01', 'web', 'product_view', 2, 600, 0.6, 0.4, 50),
  ('2026-05-01', 'web', 'cart', 3, 200, 0.2, 0.6667, 50),
  ('2026-05-01', 'web', 'checkout', 4, 120, 0.12, 0.4, 50),
  ('2026-05-01', 'web', 'purchase', 5, 80, 0.08, 0.3333, 50),
  ('2026-05-01', 'app', 'visit', 1, 500, 1.0, NULL, 30),
  ('2026-05-01', 'app', 'product_view', 2, 400, 0.8, 0.2, 30),
  ('2026-05-01', 'app', 'cart', 3, 100, 0.2, 0.75, 30),
  ('2026-05-01', 'app', 'checkout', 4, 90, 0.18, 0.1, 30),
  ('2026-05-01', 'app', 'purchase', 5, 45, 0.09, 0.5, 30),
  ('2026-05-01', 'all', 'visit', 1, 1500, 1.0, NULL, 50),
  ('2026-06-01', 'web', 'visit', 1, 9999, 1.0, NULL, 50)`,
		// Transitions: May 2026 is the latest complete month (June is partial, July after D).
		`INSERT INTO cold.channel_transitions VALUES
  ('2026-05-01', 'start', 'email', 60, 0.6, 20),
  ('2026-05-01', 'start', 'web', 40, 0.4, 20),
  ('2026-05-01', 'email', 'web', 50, 1.0, 20),
  ('2026-05-01', 'web', 'conversion', 27, 0.3, 20),
  ('2026-05-01', 'web', 'no_conversion', 63, 0.7, 20),
  ('2026-06-01', 'start', 'store', 77, 1.0, 20),
  ('2026-07-01', 'start', 'store', 77, 1.0, 20)`,
		// Attribution: May 2026 (the latest complete month), June 2026 (partial: only in the 12
		// months), August 2025 (inside the 12 months from July 2025), May 2025 (outside).
		`INSERT INTO cold.attribution VALUES
  ('2026-05-01', 'first_touch', 'email', 10, 500, 20),
  ('2026-05-01', 'first_touch', 'web', 5, 250, 20),
  ('2026-05-01', 'last_touch', 'email', 4, 200, 20),
  ('2026-05-01', 'last_touch', 'web', 11, 550, 20),
  ('2026-05-01', 'markov_order_1', 'email', 7.3, 360, 20),
  ('2026-05-01', 'markov_order_1', 'web', 7.7, 390, 20),
  ('2026-05-01', 'first_touch', '(unattributed)', 2, 100, 12),
  ('2026-05-01', 'last_touch', '(unattributed)', 2, 100, 12),
  ('2026-05-01', 'markov_order_1', '(unattributed)', 2, 100, 12),
  ('2026-06-01', 'first_touch', 'app', 1, 50, 20),
  ('2025-08-01', 'first_touch', 'email', 3, 150, 20),
  ('2025-08-01', 'last_touch', 'web', 3, 150, 20),
  ('2025-05-01', 'first_touch', 'email', 1000, 9, 20)`,
		// Return on spend, May 2026: email paid 100 (ROAS 360/100 under Markov 1, 200/100 under
		// last touch), display paid 50 for no conversion, web converted without spend.
		`INSERT INTO cold.return_on_spend VALUES
  ('2026-05-01', 'markov_order_1', 'email', 100, 7.3, 360, 3.6, 100 / 7.3, 5, 20, 20),
  ('2026-05-01', 'last_touch', 'email', 100, 4, 200, 2, 25, 5, 20, 20),
  ('2026-05-01', 'markov_order_1', 'display', 50, 0, 0, 0, NULL, NULL, NULL, NULL),
  ('2026-05-01', 'last_touch', 'display', 50, 0, 0, 0, NULL, NULL, NULL, NULL),
  ('2026-05-01', 'markov_order_1', 'web', 0, 7.7, 390, NULL, NULL, NULL, NULL, 20),
  ('2026-05-01', 'first_touch', 'web', 999, 5, 250, NULL, NULL, NULL, NULL, 20)`,
		segmentProfilesDDL,
		// Segments of 2026-06-09 (2026-06-11 is after D); a description with markup to escape.
		`INSERT INTO cold.segment_profiles (computed_on, family, segment, customers, description, profile) VALUES
  ('2026-06-09', 'value', 'high spenders', 120, 'Spend <b>3x</b> the average & buy monthly', '{"recency_days": 12.5, "orders": 3}'),
  ('2026-06-09', 'value', 'occasional', 380, 'One purchase a year', '{"recency_days": 200, "orders": 1}'),
  ('2026-06-09', 'lifecycle', 'new', 50, 'First purchase this quarter', NULL),
  ('2026-06-09', 'lifecycle', 'loyal', 150, 'Buying for three years', '{"tenure_days": 1100}'),
  ('2026-06-11', 'value', 'future segment', 999, 'not yet', NULL)`,
		// An RFM segment with its label and a profile: means in words, with units.
		`INSERT INTO cold.segment_profiles (computed_on, family, segment, customers, description, profile, label) VALUES
  ('2026-06-09', 'rfm', 'champions', 40, 'Bought recently and often', '{"recency_days": 12.4, "monetary_365d": 1234.6, "f": 4.2207}', 'Champions')`,
		// Ingest ledger: web_events has a loaded file (100 = 90 + 6 + 4) and a refused one (50 read,
		// 30 quarantined, 20 not loaded); orders one file; an orders file of 2026-05-01 is outside.
		`INSERT INTO ops.ingest_files (source, file, folder_date, size_bytes, modified_at, status, rows_read, rows_loaded, rows_quarantined, rows_duplicate, error, run_id) VALUES
  ('web_events', '2026-06-10/web_events.jsonl', '2026-06-10', 1000, '2026-06-10 01:00:00+00', 'loaded', 100, 90, 6, 4, NULL, 'r1'),
  ('web_events', '2026-06-09/web_events.jsonl', '2026-06-09', 500, '2026-06-09 01:00:00+00', 'rejected', 50, 0, 30, 0, 'rejected: bad email `+plantedEmail+`', 'r0'),
  ('orders', '2026-06-10/orders.csv', '2026-06-10', 800, '2026-06-10 01:00:00+00', 'loaded', 200, 200, 0, 0, NULL, 'r1'),
  ('orders', '2026-05-01/orders.csv', '2026-05-01', 800, '2026-05-01 01:00:00+00', 'loaded', 1000, 1000, 0, 0, NULL, 'r-old')`,
		// Quarantine: 3 web_events rows in the window (their raw text holds an email), 1 before it.
		`INSERT INTO ops.quarantine (source, file, line, field, reason, raw, load_date, run_id)
  SELECT 'web_events', 'x.jsonl', i, 'email', 'invalid', '{"email": "`+plantedEmail+`", "customer": "`+plantedKey+`"}',
         CASE WHEN i < 4 THEN DATE '2026-06-09' ELSE DATE '2026-04-01' END, 'r0'
  FROM range(1, 5) r(i)`,
		// Privacy audit: one erasure request over two tables (5 + 7 rows) on 2026-06-08, a consent
		// purge of 40 rows on 2026-04-11 (outside the last 30 days), one after D.
		`INSERT INTO ops.privacy_audit (recorded_at, run_id, logical_date, action, request_id, subject, target, rows, detail) VALUES
  ('2026-06-08 02:00:00+00', 'r', '2026-06-08', 'erasure', '`+plantedRequest+`', '`+plantedSubject+`', 'analytics.orders', 5, 'erased'),
  ('2026-06-08 02:00:00+00', 'r', '2026-06-08', 'erasure', '`+plantedRequest+`', '`+plantedSubject+`', 'analytics.web_events', 7, 'erased'),
  ('2026-04-11 02:00:00+00', 'r', '2026-04-11', 'consent_purge', NULL, NULL, 'analytics.orders', 40, NULL),
  ('2026-06-20 02:00:00+00', 'r', '2026-06-20', 'consent_purge', NULL, NULL, 'analytics.orders', 500, NULL)`,
		`INSERT INTO cold.consent_daily VALUES
  ('2026-06-08', 'analytics', 200, 180, 0.9, 180),
  ('2026-06-09', 'analytics', 210, 187, 0.8905, 187),
  ('2026-06-10', 'analytics', 220, 198, 0.9, 198),
  ('2026-06-08', 'marketing_email', 200, 80, 0.4, 80),
  ('2026-06-10', 'marketing_email', 220, 99, 0.45, 99)`,
		`INSERT INTO cold.suppressed_cells VALUES
  ('survey_scores', 10, 120, 8, 3, '2026-06-10'),
  ('daily_activity', 10, 300, 0, 12, '2026-06-10')`,
		// Hot data with a planted customer key.
		`INSERT INTO analytics.orders VALUES ('o1', 'web', '`+plantedKey+`', '2026-06-10 10:00:00+00', '2026-06-10', 100, NULL, NULL)`,
		`INSERT INTO analytics.web_events (event_id, ts, event_date, customer_key, session_id, event, _batch) VALUES
  ('w1', '2026-06-10 09:00:00+00', '2026-06-10', '`+plantedKey+`', 's1', 'page_view', 'r1')`,
	)
	y, p := churnHoldout()
	met, err := eval.Evaluate(y, p)
	if err != nil {
		t.Fatal(err)
	}
	churn, _ := json.Marshal(struct {
		eval.Metrics
		BaselineROCAUC float64 `json:"baseline_roc_auc"`
		TrainRows      int     `json:"train_rows"`
		TrainChurnRate float64 `json:"train_churn_rate"`
	}{met, 0.7, 1234, 0.3})
	clvMet, _ := json.Marshal(map[string]any{"log_likelihood": -9582.4, "gamma_gamma_log_likelihood": -4000.5,
		"customers": 2357, "repeat_customers": 946, "params": map[string]any{"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
		"holdout_days": 273, "holdout": []clv.HoldoutRow{
			{Group: "0", Customers: 1411, MeanPredicted: 0.237, MeanActual: 0.236},
			{Group: "1", Customers: 439, MeanPredicted: 0.694, MeanActual: 0.697},
			{Group: "7+", Customers: 18, MeanPredicted: 6.21, MeanActual: 7.0}}})
	exec(t, wh,
		fmt.Sprintf(`INSERT INTO ops.models (id, kind, algorithm, train_cutoff, eval_cutoff, metrics, artifact, status, created_at, promoted_at) VALUES
  ('churn-logreg-old', 'churn', 'logreg', '2026-01-01', '2026-03-01', '{"roc_auc": 0.5}', 'm/a', 'retired', '2026-03-02', NULL),
  ('churn-logreg-1', 'churn', 'logreg', '2026-03-12', '2026-04-11', '%s', 'm/b', 'promoted', '2026-06-10', '2026-06-10'),
  ('clv-bgnbd+gammagamma-1', 'clv', 'bgnbd+gammagamma', '2026-06-10', NULL, '%s', 'm/c', 'promoted', '2026-06-10', '2026-06-10')`,
			churn, clvMet))
}
