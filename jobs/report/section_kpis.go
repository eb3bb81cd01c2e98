package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// KPI windows: daily trends over the 90 days up to D, monthly survey
// scores over the 12 months up to D's month, tiles against the 7 days
// before D.
const (
	trendDays   = 90
	surveyMonth = 12
	tileDays    = 7
)

// kpiPoint is one KPI value of cold.kpis with what it was computed from.
type kpiPoint struct {
	Day           time.Time
	Value, Num, D float64 // Num, D: numerator and denominator, NaN for plain sums
}

// loadKPIs reads one grain (day or month) of the 'all' channel and region
// KPIs between from and to, by KPI name, in date order.
func loadKPIs(ctx context.Context, rd reader, period string, kpis []string, from, to time.Time) (map[string][]kpiPoint, error) {
	out := map[string][]kpiPoint{}
	args := []any{sql.Named("period", period), sql.Named("from", fmtDate(from)), sql.Named("to", fmtDate(to)), sql.Named("kpis", kpis)}
	err := queryEach(ctx, rd, "cold.kpis.sql", "report_points", args, func(r *sql.Rows) error {
		var p kpiPoint
		var kpi string
		var v, n, d sql.NullFloat64
		if err := r.Scan(&p.Day, &kpi, &v, &n, &d); err != nil {
			return err
		}
		p.Day = dayOf(p.Day)
		p.Value, p.Num, p.D = nullFloat(v), nullFloat(n), nullFloat(d)
		out[kpi] = append(out[kpi], p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cold.kpis (%s): %w", period, err)
	}
	return out, nil
}

// tileKind says how a KPI of the day compares with the week before.
type tileKind int

const (
	// sumKPI (revenue, orders, new customers): against the mean daily value
	// of the days before; change relative (+12%).
	sumKPI tileKind = iota
	// ratioKPI (average basket): against the pooled ratio of the days
	// before (sum of numerators / sum of denominators); change relative.
	ratioKPI
	// rateKPI (conversion, abandonment): against the pooled rate of the
	// days before; change in percentage points.
	rateKPI
)

// tileDef is one KPI tile.
type tileDef struct {
	KPI, Label   string
	Kind         tileKind
	HigherBetter bool
	Format       func(float64) string
}

// tileDefs are the tiles of the day, in display order.
func tileDefs() []tileDef {
	money := func(v float64) string { return fmtNumber(v, 2) }
	count := func(v float64) string { return fmtNumber(v, 0) }
	pct := func(v float64) string { return fmtPercent(v, 2) }
	return []tileDef{
		{"revenue", "Revenue", sumKPI, true, money},
		{"orders", "Orders", sumKPI, true, count},
		{"average_basket", "Average basket", ratioKPI, true, money},
		{"conversion_rate", "Conversion rate", rateKPI, true, pct},
		{"cart_abandonment_rate", "Cart abandonment", rateKPI, false, pct},
		{"new_customers", "New customers", sumKPI, true, count},
	}
}

// tileChange compares the value of day with the tileDays days before it:
// cur and prev (the baseline described by kind) and the change (relative
// for sums and ratios, absolute for rates). ok is false when day has no
// value; prev and change are NaN when the week before has none.
func tileChange(pts []kpiPoint, day time.Time, kind tileKind) (cur, prev, change float64, ok bool) {
	cur, prev, change = math.NaN(), math.NaN(), math.NaN()
	start := day.AddDate(0, 0, -tileDays)
	var sum, num, den float64
	n, pooled := 0, true
	for _, p := range pts {
		switch {
		case p.Day.Equal(day):
			cur, ok = p.Value, finite(p.Value) && !noDenominator(p)
		case !p.Day.Before(start) && p.Day.Before(day) && finite(p.Value) && !noDenominator(p):
			sum += p.Value
			n++
			if finite(p.Num) && finite(p.D) {
				num += p.Num
				den += p.D
			} else {
				pooled = false
			}
		}
	}
	if n > 0 {
		prev = sum / float64(n)
		if kind != sumKPI && pooled && den > 0 {
			prev = num / den
		}
	}
	if ok && finite(prev) {
		switch {
		case kind == rateKPI:
			change = cur - prev
		case prev != 0:
			change = cur/prev - 1
		}
	}
	return cur, prev, change, ok
}

// buildTile writes a tile's text from its numbers.
func buildTile(def tileDef, pts []kpiPoint, day time.Time) tile {
	cur, prev, change, ok := tileChange(pts, day, def.Kind)
	t := tile{KPI: def.KPI, Label: def.Label, Text: dash, Tone: "flat",
		Value: fmtRaw(cur), Prev: fmtRaw(prev), Change: fmtRaw(change)}
	if p, found := pointOn(pts, day); found && noDenominator(p) {
		// A rate of nothing (no session, no cart) is no rate: not 100%.
		t.Text, t.ChangeText = notApplicable, fmt.Sprintf("no %s on %s", denominatorName(def.KPI), fmtDate(day))
		t.Value, t.Change = "", ""
		return t
	}
	if !ok {
		t.ChangeText = "no figure for " + fmtDate(day)
		return t
	}
	t.Text = def.Format(cur)
	baseline := "7-day mean"
	if def.Kind != sumKPI {
		baseline = "previous 7 days"
	}
	switch {
	case !finite(prev):
		t.ChangeText = "no figure in the previous 7 days"
		return t
	case !finite(change):
		t.ChangeText = fmt.Sprintf("vs %s %s", baseline, def.Format(prev))
		return t
	case def.Kind == rateKPI:
		t.ChangeText = fmt.Sprintf("%s vs %s (%s)", fmtSigned(100*change, 2, " pt"), baseline, def.Format(prev))
	default:
		t.ChangeText = fmt.Sprintf("%s vs %s (%s)", fmtSigned(100*change, 1, "%"), baseline, def.Format(prev))
	}
	switch {
	case !meaningful(def.Kind, pts, day, change):
		t.Tone = "flat"
	case (change > 0) == def.HigherBetter:
		t.Tone = "good"
	default:
		t.Tone = "bad"
	}
	return t
}

// notApplicable stands for a rate or a ratio whose denominator is zero.
const notApplicable = "n/a"

// noDenominator says whether p is a rate or a ratio (it has a numerator or
// a denominator) without a positive denominator: 0 sessions, 0 carts, 0
// orders. Its value, whatever cold.kpis holds (0/0 may have been stored
// as 1), is no figure. Plain sums have neither and are never so.
func noDenominator(p kpiPoint) bool {
	if !finite(p.Num) && !finite(p.D) {
		return false
	}
	return !finite(p.D) || p.D <= 0
}

// pointOn is the point of day in pts.
func pointOn(pts []kpiPoint, day time.Time) (kpiPoint, bool) {
	for _, p := range pts {
		if p.Day.Equal(day) {
			return p, true
		}
	}
	return kpiPoint{}, false
}

// denominatorName says in words what a KPI's denominator counts.
func denominatorName(kpi string) string {
	switch kpi {
	case "conversion_rate":
		return "sessions"
	case "cart_abandonment_rate":
		return "carts"
	case "average_basket":
		return "orders"
	case "nps", "csat", "ces":
		return "survey answers"
	}
	return "denominator"
}

// minRelativeChange is the smallest change of a sum or a ratio KPI that
// gets a colour: day-to-week noise of a few percent is no news.
const minRelativeChange = 0.05

// meaningful says whether a tile's change deserves a colour. A rate's
// change is tested against chance (two-proportion z-test, 95%) on the
// day's and the previous 7 days' counts; without counts, a change under
// one point is not. Sums and ratios need minRelativeChange.
func meaningful(kind tileKind, pts []kpiPoint, day time.Time, change float64) bool {
	if kind != rateKPI {
		return math.Abs(change) >= minRelativeChange
	}
	start := day.AddDate(0, 0, -tileDays)
	var n1, d1, n0, d0 float64
	for _, p := range pts {
		if !finite(p.Num) || !finite(p.D) {
			continue
		}
		switch {
		case p.Day.Equal(day):
			n1, d1 = p.Num, p.D
		case !p.Day.Before(start) && p.Day.Before(day):
			n0, d0 = n0+p.Num, d0+p.D
		}
	}
	if d1 <= 0 || d0 <= 0 {
		return math.Abs(change) >= 0.01
	}
	pool := (n1 + n0) / (d1 + d0)
	se := math.Sqrt(pool * (1 - pool) * (1/d1 + 1/d0))
	if se == 0 {
		return change != 0
	}
	return math.Abs(n1/d1-n0/d0)/se >= 1.96
}

// kpiChartDef is one KPI trend chart.
type kpiChartDef struct {
	KPI, Name, Caption, YLabel string
	Y                          axisKind
	ZeroBased                  bool
}

// kpiSection is section 1: tiles of the day, daily trends, monthly
// survey scores.
func kpiSection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	from := day.AddDate(0, 0, 1-trendDays)
	mFrom := monthOf(day).AddDate(0, 1-surveyMonth, 0)
	s := section{ID: "kpis", Title: "KPI trends",
		Window: fmt.Sprintf("daily KPIs from %s to %s (%d days); monthly survey scores from %s to %s; channel 'all' and region 'all' (sums over the published cells of cold.kpis). Tiles compare %s with the %d days before it.",
			fmtDate(from), fmtDate(day), trendDays, fmtMonth(mFrom), fmtMonth(day), fmtDate(day), tileDays)}
	ok, err := tableExists(ctx, rd, "cold.kpis")
	if err != nil {
		return s, err
	}
	if !ok {
		s.Parts = append(s.Parts, emptyPart("", "the KPI table cold.kpis has not been built yet (the kpis job builds it)."))
		return s, nil
	}
	var names []string
	for _, d := range tileDefs() {
		names = append(names, d.KPI)
	}
	daily, err := loadKPIs(ctx, rd, "day", names, from, day)
	if err != nil {
		return s, err
	}
	if len(daily) == 0 {
		s.Parts = append(s.Parts, emptyPart("Daily KPIs", fmt.Sprintf("cold.kpis has no daily KPI between %s and %s.", fmtDate(from), fmtDate(day))))
	} else {
		var tiles []tile
		for _, d := range tileDefs() {
			tiles = append(tiles, buildTile(d, daily[d.KPI], day))
		}
		s.Parts = append(s.Parts, part{Heading: "On " + fmtDate(day), Tiles: tiles, Wide: true})
		for _, c := range []kpiChartDef{
			{"revenue", "revenue", "Daily revenue", "revenue", axisNumber, true},
			{"orders", "orders", "Daily orders", "orders", axisNumber, true},
			{"conversion_rate", "conversion-rate", "Daily conversion rate (sessions with a purchase / sessions, web and app)", "conversion", axisPercent, true},
			{"cart_abandonment_rate", "cart-abandonment", "Daily cart abandonment (carts without a purchase / carts, web and app)", "abandonment", axisPercent, true},
		} {
			pt, err := kpiChart(c, daily[c.KPI], axisDay, from, day)
			if err != nil {
				return s, err
			}
			s.Parts = append(s.Parts, pt)
		}
	}
	monthly, err := loadKPIs(ctx, rd, "month", []string{"nps", "csat", "ces"}, mFrom, day)
	if err != nil {
		return s, err
	}
	if len(monthly) == 0 {
		s.Parts = append(s.Parts, emptyPart("Survey scores", fmt.Sprintf("cold.kpis has no monthly NPS, CSAT or CES from %s to %s.", fmtMonth(mFrom), fmtMonth(day))))
		return s, nil
	}
	for _, c := range []kpiChartDef{
		{"nps", "nps", "Monthly NPS (% promoters 9-10 minus % detractors 0-6)", "NPS", axisNumber, false},
		{"csat", "csat", "Monthly CSAT (share of answers 4-5 of 5)", "CSAT", axisPercent, true},
		{"ces", "ces", "Monthly customer effort score (mean of 1-7, lower is easier)", "CES", axisNumber, true},
	} {
		pt, err := kpiChart(c, monthly[c.KPI], axisMonth, mFrom, monthOf(day))
		if err != nil {
			return s, err
		}
		s.Parts = append(s.Parts, pt)
	}
	return s, nil
}

// kpiChart draws one KPI over time, the points of the window from..to
// (both included): the x axis spans the points there are, so a KPI that
// began in August starts in August. A rate or ratio whose denominator is
// zero (no session, no cart) is no figure: it is left out, not drawn as a
// rate.
func kpiChart(c kpiChartDef, pts []kpiPoint, x axisKind, from, to time.Time) (part, error) {
	sr := series{Name: c.YLabel}
	for _, p := range pts {
		if p.Day.Before(from) || p.Day.After(to) || noDenominator(p) {
			continue
		}
		sr.X = append(sr.X, float64(p.Day.Unix()))
		sr.Y = append(sr.Y, p.Value)
	}
	ch, err := lineChart(lineSpec{Series: []series{sr}, X: x, Y: c.Y, YLabel: c.YLabel, ZeroBased: c.ZeroBased})
	return figurePart(c.Name, c.Caption, ch, err, "cold.kpis has no "+c.KPI+" figure in the window.", false)
}
