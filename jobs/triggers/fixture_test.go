package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

// The run date of the tests. Paris is on summer time (UTC+2), so the
// evaluation instant, the end of the business day, is 22:00 UTC.
const runDay = "2026-06-10"

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

// paris is the business time zone of config.Default.
func paris(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// world is a warehouse in a temp dir with helpers that plant hand-built
// rows relative to the end of runDay.
type world struct {
	t   testing.TB
	wh  *warehouse.Warehouse
	cfg config.Config
	now time.Time
	seq int
}

func newWorld(t testing.TB) *world {
	t.Helper()
	cfg := config.Default()
	wh := whtest.Open(t, &cfg)
	w := &world{t: t, wh: wh, cfg: cfg, now: orchestration.EndOfDay(day(runDay), paris(t))}
	// The segments job owns this table; its schema as agreed, in case its
	// SQL file is not in this checkout yet.
	w.exec(`CREATE TABLE IF NOT EXISTS analytics.segment_members (computed_on DATE, family VARCHAR,
  segment VARCHAR, customer_key VARCHAR, score DOUBLE, detail JSON)`)
	return w
}

func (w *world) exec(q string, args ...any) {
	w.t.Helper()
	if _, err := w.wh.DB.Exec(q, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, q)
	}
}

func (w *world) id(prefix string) string { w.seq++; return fmt.Sprintf("%s%d", prefix, w.seq) }

// ts renders the instant ago before the end of runDay as a UTC literal
// (a negative ago is after it).
func (w *world) ts(ago time.Duration) string {
	return w.now.Add(-ago).UTC().Format("2006-01-02 15:04:05+00")
}

func (w *world) localDate(ago time.Duration) string {
	return w.now.Add(-ago).In(paris(w.t)).Format(time.DateOnly)
}

// web plants a web event.
func (w *world) web(cust, event string, ago time.Duration, product, category string) {
	w.exec(`INSERT INTO analytics.web_events (event_id, ts, event_date, customer_key, session_id, event, product_id, category, _batch)
VALUES (?, CAST(? AS TIMESTAMPTZ), ?, ?, 's-'||?, ?, nullif(?, ''), nullif(?, ''), 'r')`,
		w.id("w"), w.ts(ago), w.localDate(ago), cust, cust, event, product, category)
}

// app plants an app event.
func (w *world) app(cust, event string, ago time.Duration, product, category string) {
	w.exec(`INSERT INTO analytics.app_events (event_id, ts, event_date, customer_key, event, product_id, category, _batch)
VALUES (?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, nullif(?, ''), nullif(?, ''), 'r')`,
		w.id("a"), w.ts(ago), w.localDate(ago), cust, event, product, category)
}

// order plants a store purchase: carts and views are answered by a
// purchase in any channel.
func (w *world) order(cust string, ago time.Duration) {
	w.exec(`INSERT INTO analytics.orders VALUES (?, 'store', ?, CAST(? AS TIMESTAMPTZ), ?, 50, NULL, 1)`,
		w.id("o"), cust, w.ts(ago), w.localDate(ago))
}

// contact plants a call-centre contact and returns its id.
func (w *world) contact(cust string, ago time.Duration, resolved bool) string {
	id := w.id("k")
	w.exec(`INSERT INTO analytics.contacts VALUES (?, CAST(? AS TIMESTAMPTZ), ?, ?, 'delivery', 120, ?, 4, 'ag', 'r', NULL)`,
		id, w.ts(ago), w.localDate(ago), cust, resolved)
	return id
}

// consent plants a consent interval; to "" is open-ended.
func (w *world) consent(cust, purpose, from, to string) {
	w.exec(`INSERT INTO consent.intervals VALUES (?, ?, CAST(? AS TIMESTAMPTZ), CAST(nullif(?, '') AS TIMESTAMPTZ),
  CASE WHEN ? = '' THEN 'open' ELSE 'withdrawn' END, ?, 'test')`,
		cust, purpose, from, to, to, w.id("c"))
}

// optout plants a trigger opt-out record under the customer's token
// (tok-<cust>), mapped to the customer unless blocked.
func (w *world) optout(cust, trigger, status string, ago time.Duration, blocked bool) {
	tok := "tok-" + cust
	if blocked {
		tok = "blocked-" + cust
	}
	w.exec(`INSERT INTO identity.customer_map SELECT ?, 'customer_id', ?, ?
WHERE NOT EXISTS (SELECT 1 FROM identity.customer_map WHERE id_token = ?)`, tok, cust, blocked, tok)
	w.exec(`INSERT INTO consent.trigger_optouts VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), 'r')`,
		w.id("x"), tok, trigger, status, w.ts(ago))
}

// objects plants a current objection (consent.objecting, as the consent
// job builds it).
func (w *world) objects(cust, scope string) {
	w.exec(`INSERT INTO consent.objecting VALUES (?, ?)`, cust, scope)
}

// segment plants a segment membership.
func (w *world) segment(on, cust, family, segment string) {
	w.exec(`INSERT INTO analytics.segment_members VALUES (?, ?, ?, ?, 0.5, '{}')`, on, family, segment, cust)
}

// fired plants an earlier fire.
func (w *world) fired(on, trigger, cust string) {
	w.exec(`INSERT INTO analytics.trigger_fires VALUES (?, ?, ?, 'email', 'earlier', '{}', 'x')`, on, trigger, cust)
}

// evaluate runs the triggers of date with opts.
func (w *world) evaluate(date string, opts Options) Result {
	w.t.Helper()
	ctx := context.Background()
	conn, err := w.wh.Conn(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close()
	res, err := Evaluate(ctx, w.wh, conn, day(date), paris(w.t), opts)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// fire is one analytics.trigger_fires row.
type fire struct {
	Trigger, Customer, Channel, Purpose, Content string
	Reason                                       map[string]any
}

// fires reads a date's fires, keyed by trigger and customer.
func (w *world) fires(date string) map[[2]string]fire {
	w.t.Helper()
	rows, err := w.wh.DB.Query(`SELECT "trigger", customer_key, channel, purpose, content, CAST(reason AS VARCHAR)
FROM analytics.trigger_fires WHERE fired_on = ?`, date)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[[2]string]fire{}
	for rows.Next() {
		var f fire
		var js string
		if err := rows.Scan(&f.Trigger, &f.Customer, &f.Channel, &f.Purpose, &f.Content, &js); err != nil {
			w.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), &f.Reason); err != nil {
			w.t.Fatalf("reason %s: %v", js, err)
		}
		k := [2]string{f.Trigger, f.Customer}
		if _, dup := out[k]; dup {
			w.t.Errorf("%s fired twice for %s on %s", f.Trigger, f.Customer, date)
		}
		out[k] = f
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// exclusions reads a date's exclusion counts, keyed by trigger and reason.
func (w *world) exclusions(date string) map[[2]string]int64 {
	w.t.Helper()
	rows, err := w.wh.DB.Query(`SELECT "trigger", reason, customers FROM analytics.trigger_exclusions WHERE fired_on = ?`, date)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[[2]string]int64{}
	for rows.Next() {
		var tr, r string
		var n int64
		if err := rows.Scan(&tr, &r, &n); err != nil {
			w.t.Fatal(err)
		}
		out[[2]string{tr, r}] = n
	}
	return out
}
