package attribution

import (
	"context"
	"database/sql"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"
	sqlfs "github.com/parcours/parcours/sql"
)

// TestJourneys runs cold.conversion_paths.sql's contribute section on a
// hand-built batch of activity and reads the paths and converting
// customers it contributes:
//   - m1 lands on the web from an email at 10:00; the session's later
//     pages and its purchase carry no campaign (they read 'direct'). The
//     session is one touch, email: path "email".
//   - m2 buys from an order export with no touch at all: "(no touch)".
//   - m3 opens a push at 09:00 and goes on in the app at 09:05, then buys
//     at 09:10, all in one app session: one touch, push.
//   - m4 arrives by paid search on 1 May and directly on 3 May, then buys:
//     "paid_search > direct" (two sessions, two touches).
//   - m5 walks into a store and buys, nothing before: the visit is the
//     touch of its own purchase, "store".
func TestJourneys(t *testing.T) {
	ctx := context.Background()
	wh, conn := whtest.OpenConn(t, nil)
	for _, q := range []string{
		`CREATE TEMP TABLE batches AS SELECT 'b1' AS batch`,
		`CREATE TEMP TABLE activity (batch VARCHAR, member VARCHAR, ts TIMESTAMPTZ, kind VARCHAR, session VARCHAR,
  amount DECIMAL(18,2), order_id VARCHAR, touch VARCHAR)`,
		`INSERT INTO activity VALUES
  ('b1', 'm1', '2026-05-03 10:00:00+00', 'page_view', 'w:s1', NULL, NULL, 'email'),
  ('b1', 'm1', '2026-05-03 10:01:00+00', 'product_view', 'w:s1', NULL, NULL, 'direct'),
  ('b1', 'm1', '2026-05-03 10:02:00+00', 'checkout_start', 'w:s1', NULL, NULL, 'direct'),
  ('b1', 'm1', '2026-05-03 10:03:00+00', 'purchase', 'w:s1', 50, 'o1', 'direct'),
  ('b1', 'm2', '2026-05-04 12:00:00+00', 'purchase', NULL, 20, 'o2', NULL),
  ('b1', 'm3', '2026-05-05 09:00:00+00', 'push_open', 'a:d1:2026-05-05', NULL, NULL, 'push'),
  ('b1', 'm3', '2026-05-05 09:05:00+00', 'page_view', 'a:d1:2026-05-05', NULL, NULL, 'app'),
  ('b1', 'm3', '2026-05-05 09:10:00+00', 'purchase', 'a:d1:2026-05-05', 30, 'o3', 'app'),
  ('b1', 'm4', '2026-05-01 08:00:00+00', 'page_view', 'w:s4', NULL, NULL, 'paid_search'),
  ('b1', 'm4', '2026-05-03 08:00:00+00', 'page_view', 'w:s5', NULL, NULL, 'direct'),
  ('b1', 'm4', '2026-05-03 08:05:00+00', 'purchase', 'w:s5', 10, 'o4', 'direct'),
  ('b1', 'm5', '2026-05-04 11:00:00+00', 'purchase', 's:o5', 40, 'o5', 'store')`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "cold.conversion_paths.sql", Section: "contribute"}, sql.Named("lookback_days", 30),
		sql.Named("max_touches", 10), sql.Named("date", "2026-05-06")); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]float64{}
	rs, err := conn.QueryContext(ctx, `SELECT path, conversions, CAST(value AS DOUBLE) FROM ops.cold_contrib_conversion_paths WHERE path <> '*'`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var p string
		var c, v float64
		if err := rs.Scan(&p, &c, &v); err != nil {
			t.Fatal(err)
		}
		got[p] = [2]float64{c, v}
	}
	rs.Close()
	want := map[string][2]float64{"email": {1, 50}, NoTouch: {1, 20}, "push": {1, 30}, "paid_search > direct": {1, 10}, "store": {1, 40}}
	if len(got) != len(want) {
		t.Errorf("paths %v, want %v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("path %q: %v, want %v", p, got[p], w)
		}
	}
	conv := map[string]int64{}
	rs, err = conn.QueryContext(ctx, `SELECT channel, customers FROM ops.cold_contrib_path_channels`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var ch string
		var n int64
		if err := rs.Scan(&ch, &n); err != nil {
			t.Fatal(err)
		}
		conv[ch] = n
	}
	rs.Close()
	for ch, n := range map[string]int64{"email": 1, NoTouch: 1, "push": 1, "paid_search": 1, "direct": 1, "store": 1} {
		if conv[ch] != n {
			t.Errorf("converting customers of %s: %d, want %d (all: %v)", ch, conv[ch], n, conv)
		}
	}
}

// A month's journeys close once lookback days have passed after its last
// day, in the first batch that sees it so, and only once.
func TestMonthsClose(t *testing.T) {
	ctx := context.Background()
	wh, conn := whtest.OpenConn(t, nil)
	exec := func(q string) { t.Helper(); whtest.Exec(t, conn, q) }
	exec(`CREATE TEMP TABLE activity (batch VARCHAR, member VARCHAR, ts TIMESTAMPTZ, kind VARCHAR, session VARCHAR,
  amount DECIMAL(18,2), order_id VARCHAR, touch VARCHAR)`)
	closed := func() string {
		t.Helper()
		var s sql.NullString
		if err := conn.QueryRowContext(ctx, `SELECT string_agg(strftime(month, '%m') || '@' || batch, ' ' ORDER BY month)
FROM ops.cold_closed_months WHERE cold_table = 'conversion_paths'`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s.String
	}
	for _, n := range []struct {
		batch, date, activity, want string
	}{
		{"b1", "2026-05-15", `('b1', 'm1', '2026-03-10 10:00:00+00', 'page_view', 'w:s1', NULL, NULL, 'email'),
  ('b1', 'm2', '2026-04-20 10:00:00+00', 'page_view', 'w:s2', NULL, NULL, 'direct'),
  ('b1', 'm3', '2026-05-02 10:00:00+00', 'page_view', 'w:s3', NULL, NULL, 'direct')`, "03@b1"},
		{"b2", "2026-05-30", `('b2', 'm4', '2026-05-29 10:00:00+00', 'page_view', 'w:s4', NULL, NULL, 'direct')`, "03@b1 04@b2"},
		{"b3", "2026-05-31", `('b3', 'm5', '2026-05-30 10:00:00+00', 'page_view', 'w:s5', NULL, NULL, 'direct')`, "03@b1 04@b2"},
	} {
		exec("CREATE OR REPLACE TEMP TABLE batches AS SELECT '" + n.batch + "' AS batch")
		exec("DELETE FROM activity")
		exec("INSERT INTO activity VALUES " + n.activity)
		if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "cold.conversion_paths.sql", Section: "contribute"}, sql.Named("lookback_days", 30),
			sql.Named("max_touches", 10), sql.Named("date", n.date)); err != nil {
			t.Fatal(err)
		}
		if got := closed(); got != n.want {
			t.Errorf("after %s on %s: closed months %q, want %q", n.batch, n.date, got, n.want)
		}
	}
}
