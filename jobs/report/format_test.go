package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct{ got, want string }{
		{groupThousands("1234567.891"), "1,234,567.891"},
		{groupThousands("-1234"), "-1,234"},
		{groupThousands("+999"), "+999"},
		{groupThousands("100000"), "100,000"},
		{fmtNumber(1200, 2), "1,200.00"},
		{fmtNumber(-0.001, 2), "0.00"},
		{fmtNumber(-1234.5, 0), "-1,234"}, // round half to even, as strconv does
		{fmtNumber(nan, 2), "—"},
		{fmtInt(9876543), "9,876,543"},
		{fmtPercent(0.04667, 2), "4.67%"},
		{fmtPercent(math.Inf(1), 1), "—"},
		{fmtSigned(20, 1, "%"), "+20.0%"},
		{fmtSigned(-14.2857, 1, "%"), "-14.3%"},
		{fmtSigned(0.0001, 2, " pt"), "0.00 pt"},
		{fmtSigned(nan, 2, " pt"), "—"},
		{fmtRaw(0.1), "0.1"},
		{fmtRaw(nan), ""},
		{fmtTick(2500), "2500"},
		{fmtTick(25000), "25k"},
		{fmtTick(1.5e6), "1.5M"},
		{fmtTick(0.30000000000000004), "0.3"},
		{slug("High spenders (EU)"), "high-spenders-eu"},
		{slug("  --value--  "), "value"},
		{fmtMonth(day("2026-05-17")), "May 2026"},
		{fmtDate(monthOf(day("2026-05-17"))), "2026-05-01"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestTileChange(t *testing.T) {
	d := day("2026-06-10")
	p := func(s string, v, n, den float64) kpiPoint { return kpiPoint{Day: day(s), Value: v, Num: n, D: den} }
	nan := math.NaN()
	for _, tc := range []struct {
		name              string
		pts               []kpiPoint
		kind              tileKind
		cur, prev, change float64
		ok                bool
	}{
		// Sums: the mean of the days present in D-7..D-1; D-8 is outside.
		{"sum", []kpiPoint{p("2026-06-10", 120, nan, nan), p("2026-06-09", 100, nan, nan), p("2026-06-03", 80, nan, nan), p("2026-06-02", 1000, nan, nan)},
			sumKPI, 120, 90, 120.0/90 - 1, true},
		// Rates pool numerators and denominators: (1 + 30) / (100 + 200) = 0.10333, not the mean 0.08.
		{"rate pooled", []kpiPoint{p("2026-06-10", 0.2, 2, 10), p("2026-06-09", 0.01, 1, 100), p("2026-06-08", 0.15, 30, 200)},
			rateKPI, 0.2, 31.0 / 300, 0.2 - 31.0/300, true},
		// A day without numerator falls back on the mean of the rates.
		{"rate without numerators", []kpiPoint{p("2026-06-10", 0.2, nan, nan), p("2026-06-09", 0.1, nan, nan), p("2026-06-08", 0.3, 3, 10)},
			rateKPI, 0.2, 0.2, 0, true},
		{"ratio relative", []kpiPoint{p("2026-06-10", 40, 1200, 30), p("2026-06-09", 50, 1000, 20)}, ratioKPI, 40, 50, -0.2, true},
		{"no value on D", []kpiPoint{p("2026-06-09", 10, nan, nan)}, sumKPI, nan, 10, nan, false},
		{"nothing before", []kpiPoint{p("2026-06-10", 10, nan, nan)}, sumKPI, 10, nan, nan, true},
		{"zero before", []kpiPoint{p("2026-06-10", 10, nan, nan), p("2026-06-09", 0, nan, nan)}, sumKPI, 10, 0, nan, true},
		{"NULL on D", []kpiPoint{p("2026-06-10", nan, nan, nan), p("2026-06-09", 3, nan, nan)}, sumKPI, nan, 3, nan, false},
		{"empty", nil, sumKPI, nan, nan, nan, false},
	} {
		cur, prev, change, ok := tileChange(tc.pts, d, tc.kind)
		same := func(a, b float64) bool {
			return math.IsNaN(a) == math.IsNaN(b) && (math.IsNaN(a) || math.Abs(a-b) < 1e-12)
		}
		if !same(cur, tc.cur) || !same(prev, tc.prev) || !same(change, tc.change) || ok != tc.ok {
			t.Errorf("%s: %v %v %v %v, want %v %v %v %v", tc.name, cur, prev, change, ok, tc.cur, tc.prev, tc.change, tc.ok)
		}
	}
}

func TestTransitionMatrix(t *testing.T) {
	rows, cols, share, count := transitionMatrix([]transition{
		{"web", "conversion", 30, 0.3}, {"start", "web", 40, 0.4}, {"web", "no_conversion", 70, 0.7},
		{"start", "email", 60, 0.6}, {"email", "web", 50, 1}, {"app", "email", 12, 1},
	})
	if got := strings.Join(rows, ","); got != "start,app,email,web" {
		t.Errorf("rows %s", got)
	}
	if got := strings.Join(cols, ","); got != "email,web,conversion,no_conversion" {
		t.Errorf("cols %s", got)
	}
	got := fmt.Sprint(share)
	want := "[[0.6 0.4 NaN NaN] [1 NaN NaN NaN] [NaN 1 NaN NaN] [NaN NaN 0.3 0.7]]"
	if got != want {
		t.Errorf("share %s, want %s", got, want)
	}
	if count[0][0] != 60 || count[3][3] != 70 || count[1][1] != 0 {
		t.Errorf("count %v", count)
	}
	if r, c, _, _ := transitionMatrix(nil); len(r) != 0 || len(c) != 0 {
		t.Errorf("empty: %v %v", r, c)
	}
}

func TestCreditsLayout(t *testing.T) {
	c := credits{
		"shapley_additive": {"web": 1, "email": 2},
		"last_touch":       {"web": 10, "(unattributed)": 50},
		"first_touch":      {"email": 3, "store": 3},
		"custom_model":     {"web": 1},
		"another_model":    {"app": 0.5},
	}
	models, channels := c.layout()
	if got := strings.Join(models, ","); got != "first_touch,last_touch,shapley_additive,another_model,custom_model" {
		t.Errorf("models %s", got)
	}
	// web 12, email 5, store 3, app 0.5; the pool last whatever its size.
	if got := strings.Join(channels, ","); got != "web,email,store,app,(unattributed)" {
		t.Errorf("channels %s", got)
	}
}

func TestNotLoaded(t *testing.T) {
	for _, tc := range []struct {
		q    sourceQuality
		want int64
	}{
		{sourceQuality{Read: 150, RowsLoaded: 90, Quarantined: 36, Duplicate: 4}, 20},
		{sourceQuality{Read: 100, RowsLoaded: 90, Quarantined: 6, Duplicate: 4}, 0},
		{sourceQuality{Read: 0, RowsLoaded: 0, Quarantined: 3}, 0},
	} {
		if got := tc.q.NotLoaded(); got != tc.want {
			t.Errorf("%+v: %d, want %d", tc.q, got, tc.want)
		}
	}
}

// TestMeaningful: a tile is coloured only for a change worth a look.
func TestMeaningful(t *testing.T) {
	day := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	nan := math.NaN()
	rate := func(n1, d1, n0, d0 float64) []kpiPoint {
		return []kpiPoint{{day, n1 / d1, n1, d1}, {day.AddDate(0, 0, -1), n0 / d0, n0, d0}}
	}
	for _, tc := range []struct {
		name   string
		kind   tileKind
		pts    []kpiPoint
		change float64
		want   bool
	}{
		// 10% of 1,000 vs 5% of 7,000: pooled 5.6%, se 0.0076, z = 6.6.
		{"rate far beyond chance", rateKPI, rate(100, 1000, 350, 7000), 0.05, true},
		// 5.5% vs 5% of the same sizes: z = 0.66.
		{"rate within chance", rateKPI, rate(55, 1000, 350, 7000), 0.005, false},
		{"rate without counts, under a point", rateKPI, []kpiPoint{{day, 0.05, nan, nan}}, 0.005, false},
		{"rate without counts, two points", rateKPI, []kpiPoint{{day, 0.05, nan, nan}}, 0.02, true},
		{"sum down 0.1%", sumKPI, nil, -0.001, false},
		{"sum up 4.9%", sumKPI, nil, 0.049, false},
		{"sum down 5%", sumKPI, nil, -0.05, true},
		{"ratio up 14%", ratioKPI, nil, 0.14, true},
	} {
		if got := meaningful(tc.kind, tc.pts, day, tc.change); got != tc.want {
			t.Errorf("%s: meaningful = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFmtMoney(t *testing.T) {
	for _, tc := range []struct {
		v        float64
		decimals int
		cur      string
		want     string
	}{
		{1234.5, 2, "EUR", "€1,234.50"},
		{-5, 2, "USD", "-$5.00"},
		{1234.6, 0, "SEK", "1,235 SEK"},
		{1234.5, 2, "", "1,234.50"},
		{math.NaN(), 2, "EUR", dash},
	} {
		if got := fmtMoney(tc.v, tc.decimals, tc.cur); got != tc.want {
			t.Errorf("fmtMoney(%v, %d, %q) = %q, want %q", tc.v, tc.decimals, tc.cur, got, tc.want)
		}
	}
}
