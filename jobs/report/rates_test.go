package report

import (
	"math"
	"strings"
	"testing"
	"time"
)

// A rate of no session is "n/a", not the 100% (or 0%) cold.kpis may hold
// for 0/0: on the tile, in the week before, in the chart.
func TestTileZeroDenominator(t *testing.T) {
	d := day(reportDay)
	nan := math.NaN()
	at := func(n int) time.Time { return d.AddDate(0, 0, -n) }
	conv := tileDefs()[3]
	if conv.KPI != "conversion_rate" {
		t.Fatalf("tile 3 is %s", conv.KPI)
	}
	// D: no session, stored as 100%.
	tl := buildTile(conv, []kpiPoint{
		{Day: at(0), Value: 1, Num: 0, D: 0},
		{Day: at(1), Value: 0.05, Num: 5, D: 100},
	}, d)
	if tl.Text != "n/a" || !strings.Contains(tl.ChangeText, "no sessions on "+reportDay) || tl.Tone != "flat" || tl.Value != "" {
		t.Errorf("tile on a day without sessions: %+v", tl)
	}
	// A day of the week before without sessions does not pull the
	// baseline: it is the pooled 5% of the other day, not the mean with 100%.
	tl = buildTile(conv, []kpiPoint{
		{Day: at(0), Value: 0.05, Num: 5, D: 100},
		{Day: at(1), Value: 0.05, Num: 5, D: 100},
		{Day: at(2), Value: 1, Num: nan, D: 0},
	}, d)
	if tl.Text != "5.00%" || tl.Prev != "0.05" || tl.Change != "0" {
		t.Errorf("tile with a sessionless day in the week before: %+v", tl)
	}
	// Plain sums have no denominator and are never n/a.
	rev := buildTile(tileDefs()[0], []kpiPoint{{Day: at(0), Value: 0, Num: nan, D: nan}}, d)
	if rev.Text == "n/a" {
		t.Errorf("revenue tile: %+v", rev)
	}
	// The chart leaves the sessionless day out (a gap, not a 100% spike).
	pt, err := kpiChart(kpiChartDef{KPI: "conversion_rate", Name: "conversion-rate", Caption: "c", YLabel: "conversion", Y: axisPercent, ZeroBased: true},
		[]kpiPoint{{Day: at(2), Value: 0.05, Num: 5, D: 100}, {Day: at(1), Value: 1, Num: 0, D: 0}, {Day: at(0), Value: 0.06, Num: 6, D: 100}},
		axisDay, at(89), d)
	if err != nil || pt.Figure == nil {
		t.Fatalf("chart: %v %+v", err, pt)
	}
	texts := svgTexts(string(pt.Figure.Chart.SVG))
	if contains(texts, "100%") || contains(texts, "50%") {
		t.Errorf("the axis reaches for the 0/0 day: %q", texts)
	}
	if n := len(filledPaths(t, string(pt.Figure.Chart.SVG), paletteHex()[0])); n != 2 {
		t.Errorf("%d points drawn, want 2", n)
	}
}

// The funnel of a month without visits says n/a for its shares and draws
// no empty chart.
func TestFunnelZeroSessions(t *testing.T) {
	wh := openWH(t)
	exec(t, wh, `INSERT INTO cold.funnel_dropoff VALUES
  ('2026-05-01', 'web', 'visit', 1, 0, 1.0, NULL, 50),
  ('2026-05-01', 'web', 'product_view', 2, 0, 1.0, 0.0, 50),
  ('2026-05-01', 'app', 'visit', 1, 10, 1.0, NULL, 50),
  ('2026-05-01', 'app', 'product_view', 2, 0, 0.0, 1.0, 50),
  ('2026-05-01', 'app', 'cart', 3, 0, 0.0, 1.0, 50)`)
	html, charts := renderString(t, wh.DB, wh.SQL, day(reportDay))
	s := sectionHTML(t, html, "funnel")
	td := func(s string) string { return "<td class=\"\">" + s + "</td>" }
	tn := func(s string) string { return "<td class=\"n\">" + s + "</td>" }
	for _, want := range []string{
		td("Visit") + tn("0") + tn("n/a") + tn("—"),
		td("Product view") + tn("0") + tn("n/a") + tn("n/a"),
		td("Visit") + tn("10") + tn("100.0%") + tn("—"),
		td("Cart") + tn("0") + tn("0.0%") + tn("n/a"),
		"no web session in May 2026",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("funnel lacks %s", want)
		}
	}
	if contains(charts, "funnel-web") || !contains(charts, "funnel-app") {
		t.Errorf("charts %v: want the app funnel only", charts)
	}
}
