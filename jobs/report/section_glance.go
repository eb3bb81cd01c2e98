package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// glanceSection is the first screen: what changed since the day before and
// since the same day a week earlier, for the day's KPIs and the segments'
// sizes (and the churn risk mix, when scores exist), coloured only where
// the change is worth a look.
func glanceSection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	s := section{ID: "glance", Title: "At a glance",
		Window: fmt.Sprintf("%s against the day before and the same day a week earlier. Colour marks a change beyond chance"+
			" (rates: a two-proportion test at 95%%) or of at least 5%% (amounts, counts); grey ones are noise.", fmtDate(day))}
	kp, err := glanceKPIs(ctx, rd, v)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, kp)
	sp, err := glanceSegments(ctx, rd, day)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, sp)
	rp, err := glanceRisk(ctx, rd, day)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, rp)
	return s, nil
}

// glanceKPIs is the day's KPIs beside the day before and a week before.
func glanceKPIs(ctx context.Context, rd reader, v view) (part, error) {
	day := v.Day
	if ok, err := tableExists(ctx, rd, "cold.kpis"); err != nil || !ok {
		return emptyPart("KPIs", "the KPI table cold.kpis has not been built yet."), err
	}
	defs := tileDefs()
	var names []string
	for _, d := range defs {
		names = append(names, d.KPI)
	}
	pts, err := loadKPIs(ctx, rd, "day", names, day.AddDate(0, 0, -7), day)
	if err != nil {
		return part{}, err
	}
	t := &table{Caption: "KPIs of " + fmtDate(day),
		Head: []string{"KPI", fmtDate(day), "Day before", "Change", "Same day last week", "Change"}}
	some := false
	for _, d := range defs {
		at := map[time.Time]kpiPoint{}
		for _, p := range pts[d.KPI] {
			at[p.Day] = p
		}
		cur, ok := at[day]
		if ok && noDenominator(cur) {
			// a rate of a day without sessions (or carts) is no rate
			t.Rows = append(t.Rows, []cell{textCell(d.Label), numCell("n/a"), numCell(dash), numCell("n/a"), numCell(dash), numCell("n/a")})
			continue
		}
		if !ok || !finite(cur.Value) {
			t.Rows = append(t.Rows, []cell{textCell(d.Label), numCell(dash), numCell(dash), numCell(dash), numCell(dash), numCell(dash)})
			continue
		}
		some = true
		format := d.Format
		if d.KPI == "revenue" || d.KPI == "average_basket" {
			format = func(x float64) string { return fmtMoney(x, 2, v.Currency) }
		}
		row := []cell{textCell(d.Label), numCell(format(cur.Value))}
		for _, back := range []int{1, 7} {
			prev, ok := at[day.AddDate(0, 0, -back)]
			if !ok || !finite(prev.Value) || noDenominator(prev) {
				row = append(row, numCell(dash), numCell("n/a"))
				continue
			}
			row = append(row, numCell(format(prev.Value)), changeCell(d, cur, prev, day))
		}
		t.Rows = append(t.Rows, row)
	}
	if !some {
		return emptyPart("KPIs", "cold.kpis has no figure for "+fmtDate(day)+"."), nil
	}
	return part{Heading: "KPIs", Table: t, Wide: true}, nil
}

// changeCell is the change from prev to cur, toned as buildTile tones a
// tile, by meaningful on the two days' own counts.
func changeCell(d tileDef, cur, prev kpiPoint, day time.Time) cell {
	var change float64
	var text string
	switch {
	case d.Kind == rateKPI:
		change = cur.Value - prev.Value
		text = fmtSigned(100*change, 2, " pt")
	case prev.Value != 0:
		change = cur.Value/prev.Value - 1
		text = fmtSigned(100*change, 1, "%")
	default:
		return numCell("n/a")
	}
	c := numCell(text)
	// A count (orders, new customers) also has to move beyond its own
	// noise: twice the square root of the earlier count.
	countNoise := (d.KPI == "orders" || d.KPI == "new_customers") && math.Abs(cur.Value-prev.Value) <= 2*math.Sqrt(prev.Value)
	switch {
	case countNoise || !meaningful(d.Kind, []kpiPoint{cur, prev}, day, change):
	case (change > 0) == d.HigherBetter:
		c.Tone = "good"
	default:
		c.Tone = "bad"
	}
	return c
}

// segmentSize is one segment's customers on three computation days.
type segmentSize struct {
	family, segment, label string
	now, prev, week        sql.NullInt64
}

// glanceSegments is each segment's size at its latest computation on or
// before day, beside the computation before it and the latest one at
// least a week older.
func glanceSegments(ctx context.Context, rd reader, day time.Time) (part, error) {
	const heading = "Segment sizes"
	ok, err := tableExists(ctx, rd, "cold.segment_profiles")
	if err != nil || !ok {
		return emptyPart(heading, "the segments have not been published yet."), err
	}
	var sizes []segmentSize
	var now, prev, week sql.NullTime
	err = queryEach(ctx, rd, htmlSQL, "segment_sizes", []any{sql.Named("day", fmtDate(day))}, func(r *sql.Rows) error {
		var z segmentSize
		if err := r.Scan(&now, &prev, &week, &z.family, &z.segment, &z.label, &z.now, &z.prev, &z.week); err != nil {
			return err
		}
		sizes = append(sizes, z)
		return nil
	})
	if err != nil {
		return part{}, fmt.Errorf("read cold.segment_profiles: %w", err)
	}
	if len(sizes) == 0 {
		return emptyPart(heading, "no segment computed on or before "+fmtDate(day)+"."), nil
	}
	when := func(t sql.NullTime) string {
		if !t.Valid {
			return dash
		}
		return fmtDate(t.Time)
	}
	caption := fmt.Sprintf("Customers per segment on %s, against %s and %s", when(now), when(prev), when(week))
	if !prev.Valid {
		caption = fmt.Sprintf("Customers per segment on %s: the first computation, nothing to compare with yet", when(now))
	}
	t := &table{Caption: caption, Head: []string{"Family", "Segment", "Customers"}}
	if prev.Valid {
		t.Head = append(t.Head, "Change since "+when(prev), "Change since "+when(week))
	}
	for _, z := range sizes {
		row := []cell{nameCell(z.family), {Text: segmentLabel(segment{Family: z.family, Name: z.segment, Label: z.label}),
			Title: z.family + ":" + z.segment}, numCell(fmtInt(z.now.Int64))}
		if prev.Valid {
			row = append(row, sizeChange(z.now, z.prev), sizeChange(z.now, z.week))
		}
		t.Rows = append(t.Rows, row)
	}
	return part{Heading: heading, Table: t, Wide: true}, nil
}

// sizeChange is a segment's move in customers: notable when it is at least
// 5% and beyond a count's own noise (twice the square root of the earlier
// size), since a segment's growth is neither good nor bad in itself.
func sizeChange(now, before sql.NullInt64) cell {
	if !before.Valid {
		return numCell("new")
	}
	d := float64(now.Int64 - before.Int64)
	text := fmt.Sprintf("%s (%s)", fmtSigned(d, 0, ""), fmtSigned(100*d/math.Max(1, float64(before.Int64)), 1, "%"))
	c := numCell(text)
	if math.Abs(d) >= 0.05*float64(before.Int64) && math.Abs(d) > 2*math.Sqrt(float64(before.Int64)) {
		c.Tone = "notable"
	}
	return c
}

// riskPoint is one band's share of the customers scored on a day.
type riskPoint struct {
	customers, scored float64
	share             float64
}

// glanceRisk is the churn risk mix of the day beside the day before and
// a week before: a higher share of high risk is bad, of low risk good.
func glanceRisk(ctx context.Context, rd reader, day time.Time) (part, error) {
	const heading = "Churn risk mix"
	ok, err := tableExists(ctx, rd, "cold.churn_risk_mix")
	if err != nil || !ok {
		return emptyPart(heading, "no churn scores have been published yet."), err
	}
	days := []time.Time{day, day.AddDate(0, 0, -1), day.AddDate(0, 0, -7)}
	mix := map[string]map[time.Time]riskPoint{}
	err = queryEach(ctx, rd, htmlSQL, "churn_risk_mix",
		[]any{sql.Named("day", fmtDate(days[0])), sql.Named("day_before", fmtDate(days[1])), sql.Named("week_before", fmtDate(days[2]))},
		func(r *sql.Rows) error {
			var d time.Time
			var band string
			var p riskPoint
			if err := r.Scan(&d, &band, &p.customers, &p.share); err != nil {
				return err
			}
			if p.share > 0 {
				p.scored = p.customers / p.share
			}
			if mix[band] == nil {
				mix[band] = map[time.Time]riskPoint{}
			}
			mix[band][dayOf(d)] = p
			return nil
		})
	if err != nil {
		return part{}, fmt.Errorf("read cold.churn_risk_mix: %w", err)
	}
	if len(mix) == 0 {
		return emptyPart(heading, "no customer was scored on "+fmtDate(day)+" (no promoted churn model?)."), nil
	}
	t := &table{Caption: "Share of the scored customers per churn risk band, " + fmtDate(day),
		Head: []string{"Risk band", fmtDate(day), "Day before", "Change", "Same day last week", "Change"}}
	for _, band := range []string{"high", "medium", "low"} {
		at, ok := mix[band]
		if !ok {
			continue
		}
		cur, ok := at[day]
		if !ok {
			continue
		}
		row := []cell{textCell(label(band) + " risk"), numCell(fmtPercent(cur.share, 1))}
		for _, back := range days[1:] {
			prev, ok := at[back]
			if !ok {
				row = append(row, numCell(dash), numCell("n/a"))
				continue
			}
			change := cur.share - prev.share
			c := numCell(fmtSigned(100*change, 1, " pt"))
			pts := []kpiPoint{{Day: day, Num: cur.customers, D: cur.scored}, {Day: back, Num: prev.customers, D: prev.scored}}
			if band != "medium" && meaningful(rateKPI, pts, day, change) {
				c.Tone = "bad"
				if (change > 0) == (band == "low") {
					c.Tone = "good"
				}
			}
			row = append(row, numCell(fmtPercent(prev.share, 1)), c)
		}
		t.Rows = append(t.Rows, row)
	}
	return part{Heading: heading, Table: t, Wide: true}, nil
}
