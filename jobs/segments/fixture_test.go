package segments

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

// The run date of the tests. Paris is on summer time (UTC+2), so the end
// of the business day, when consent is checked, is 22:00 UTC.
const (
	runDay   = "2026-06-10"
	endOfDay = "2026-06-10 22:00:00+00"
)

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

// world is a warehouse in a temp dir with helpers that plant hand-built rows.
type world struct {
	t   testing.TB
	wh  *warehouse.Warehouse
	cfg config.Config
}

func newWorld(t testing.TB) *world {
	t.Helper()
	cfg := config.Default()
	wh := whtest.Open(t, &cfg)
	return &world{t: t, wh: wh, cfg: cfg}
}

func (w *world) exec(q string, args ...any) {
	w.t.Helper()
	if _, err := w.wh.DB.Exec(q, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, q)
	}
}

// consent gives customers an open analytics consent granted in 2025.
func (w *world) consent(cks ...string) {
	w.t.Helper()
	for _, ck := range cks {
		w.interval(ck, "analytics", "2025-01-01 00:00:00+00", "")
	}
}

// interval plants one consent interval; to "" is open-ended.
func (w *world) interval(ck, purpose, from, to string) {
	w.t.Helper()
	var end any
	if to != "" {
		end = to
	}
	w.exec(`INSERT INTO consent.intervals VALUES (?, ?, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), 'open', ?, 'test')`,
		ck, purpose, from, end, fmt.Sprintf("%s-%s-%s", ck, purpose, from))
}

// orders plants n orders of ck ending daysBefore the run day (1 day apart,
// going back), worth total together: the latest carries all but 1.00 per
// earlier order.
func (w *world) orders(ck string, daysBefore, n int, total float64) {
	w.t.Helper()
	w.exec(`INSERT INTO analytics.orders
SELECT ? || '-' || i, 'web', ?, CAST(d AS TIMESTAMPTZ) + INTERVAL 10 HOUR, d,
       CASE WHEN i = 0 THEN CAST(? AS DOUBLE) - (? - 1) ELSE 1 END, NULL, NULL
FROM (SELECT i, CAST(? AS DATE) - CAST(? AS INTEGER) - CAST(i AS INTEGER) AS d FROM range(?) t(i))`,
		ck, ck, total, n, runDay, daysBefore, n)
}

// order plants one order of ck on date.
func (w *world) order(ck, id, date string, amount float64) {
	w.t.Helper()
	w.exec(`INSERT INTO analytics.orders VALUES (?, 'store', ?, CAST(? AS DATE) + INTERVAL 12 HOUR, CAST(? AS DATE), ?, NULL, NULL)`,
		id, ck, date, date, amount)
}

// clv plants a CLV score; churn a churn score (band from the default
// configuration's thresholds).
func (w *world) clv(date, ck string, clv, purchases30 float64) {
	w.t.Helper()
	w.exec(`INSERT INTO analytics.clv_scores VALUES (CAST(? AS DATE), ?, 'clv-1', 0.9, ?, ?, ?, 50, ?)`,
		date, ck, purchases30, 3*purchases30, 12*purchases30, clv)
}

func (w *world) churn(date, ck string, p float64) {
	w.t.Helper()
	band := "low"
	if p >= w.cfg.Models.RiskHigh {
		band = "high"
	} else if p >= w.cfg.Models.RiskMedium {
		band = "medium"
	}
	w.exec(`INSERT INTO analytics.churn_scores VALUES (CAST(? AS DATE), ?, 'churn-1', ?, ?, NULL, NULL, NULL, NULL)`, date, ck, p, band)
}

// features plants the micro features of ck at the scoring cut-off of date
// (NaN is NULL).
func (w *world) features(date, ck string, v []float64) {
	w.t.Helper()
	args := []any{day(date).AddDate(0, 0, 1).Format(time.DateOnly), ck}
	for _, x := range v {
		if math.IsNaN(x) {
			args = append(args, nil)
		} else {
			args = append(args, x)
		}
	}
	w.exec(`INSERT INTO analytics.customer_features (cutoff, customer_key, recency_days, frequency_365d, monetary_365d,
  avg_basket, share_web, share_app, share_store, sessions_90d, email_open_rate_90d)
VALUES (CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
}

// plantMicro plants the planted groups' features and consents.
func (w *world) plantMicro(date string, seed uint64) (MicroInput, []string) {
	w.t.Helper()
	in, truth := plant(plantedGroups(), seed)
	for i, ck := range in.Customers {
		w.consent(ck)
		w.features(date, ck, in.Values[i])
	}
	return in, truth
}

func (w *world) params(date string) Params {
	return Params{Date: day(date), Location: w.cfg.Location(), RiskHigh: w.cfg.Models.RiskHigh,
		K: w.cfg.Privacy.K, Seed: w.cfg.Models.Seed}
}

// compute runs Compute for date on a fresh connection, as a job does.
func (w *world) compute(date string) Result {
	w.t.Helper()
	ctx := context.Background()
	conn, err := w.wh.Conn(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close()
	res, err := Compute(ctx, w.wh, conn, w.params(date), w.cfg.Segments)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// run runs the job for date and returns its counts.
func (w *world) run(date string) orchestration.Counts {
	w.t.Helper()
	env := &orchestration.Env{Date: day(date), Config: &w.cfg, WH: w.wh, Log: zerolog.Nop()}
	c, err := New().Run(context.Background(), env)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// member is one membership row.
type member struct {
	Segment string
	Score   sql.NullFloat64
	Detail  map[string]any
}

// members reads a family's members of date by customer.
func (w *world) members(date, family string) map[string]member {
	w.t.Helper()
	rows, err := w.wh.DB.Query(`SELECT customer_key, segment, score, CAST(detail AS VARCHAR) FROM analytics.segment_members
WHERE computed_on = CAST(? AS DATE) AND family = ?`, date, family)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]member{}
	for rows.Next() {
		var ck, js string
		var m member
		if err := rows.Scan(&ck, &m.Segment, &m.Score, &js); err != nil {
			w.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), &m.Detail); err != nil {
			w.t.Fatalf("detail of %s is not a JSON object: %v (%s)", ck, err, js)
		}
		if _, dup := out[ck]; dup {
			w.t.Fatalf("%s is in two %s segments on %s", ck, family, date)
		}
		out[ck] = m
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// profile is one cold.segment_profiles row.
type profile struct {
	Customers   int64
	Description string
	Label       string
	Profile     map[string]float64
}

// profiles reads the cold profiles of date by "family:segment".
func (w *world) profiles(date string) map[string]profile {
	w.t.Helper()
	rows, err := w.wh.DB.Query(`SELECT family, segment, customers, description, coalesce(label, ''), CAST(profile AS VARCHAR)
FROM cold.segment_profiles WHERE computed_on = CAST(? AS DATE)`, date)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]profile{}
	for rows.Next() {
		var f, s, js string
		var p profile
		if err := rows.Scan(&f, &s, &p.Customers, &p.Description, &p.Label, &js); err != nil {
			w.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), &p.Profile); err != nil {
			w.t.Fatalf("profile of %s:%s: %v (%s)", f, s, err, js)
		}
		out[f+":"+s] = p
	}
	return out
}

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
