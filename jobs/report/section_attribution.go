package report

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// attributionMonths is how many months up to D the second chart sums.
const attributionMonths = 12

// modelOrder is the order attribution models are shown in: heuristics
// first, then the data-driven ones; a model not listed comes after them.
func modelOrder() []string {
	return []string{"first_touch", "last_touch", "linear", "time_decay", "position_based",
		"markov_order_1", "markov_order_2", "markov_order_3", "shapley_additive", "touch_hazard"}
}

// credits is credited conversions by model and channel.
type credits map[string]map[string]float64

// loadCredits sums cold.attribution's credited conversions per model and
// channel over the months from..to (month starts).
func loadCredits(ctx context.Context, rd reader, from, to time.Time) (credits, error) {
	out := credits{}
	err := queryEach(ctx, rd, "cold.attribution.sql", "report_credits", []any{sql.Named("from", fmtDate(from)), sql.Named("to", fmtDate(to))},
		func(r *sql.Rows) error {
			var model, ch string
			var v float64
			if err := r.Scan(&model, &ch, &v); err != nil {
				return err
			}
			if out[model] == nil {
				out[model] = map[string]float64{}
			}
			out[model][ch] = v
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read cold.attribution: %w", err)
	}
	return out, nil
}

// layout orders models (known order, then by name) and channels (by
// credited conversions summed over models, largest first; 'other
// channels' (those under k) and then '(unattributed)' (conversions
// without a touch) last, since they are no channel).
func (c credits) layout() (models, channels []string) {
	known := map[string]bool{}
	for _, m := range modelOrder() {
		known[m] = true
		if c[m] != nil {
			models = append(models, m)
		}
	}
	var extra []string
	total := map[string]float64{}
	for m, byCh := range c {
		if !known[m] {
			extra = append(extra, m)
		}
		for ch, v := range byCh {
			total[ch] += v
		}
	}
	sort.Strings(extra)
	models = append(models, extra...)
	for ch := range total {
		channels = append(channels, ch)
	}
	sort.Slice(channels, func(i, j int) bool {
		a, b := channels[i], channels[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if total[a] != total[b] {
			return total[a] > total[b]
		}
		return a < b
	})
	return models, channels
}

// rank puts the rows that are no channel after the channels.
func rank(ch string) int {
	switch ch {
	case "other channels":
		return 1
	case "(unattributed)":
		return 2
	}
	return 0
}

// attributionParts draws one period's grouped bars and table.
func attributionParts(name, period string, c credits) ([]part, error) {
	models, channels := c.layout()
	var groups []series
	for _, m := range models {
		sr := series{Name: modelLabel(m)}
		for _, ch := range channels {
			sr.Y = append(sr.Y, c[m][ch])
		}
		groups = append(groups, sr)
	}
	cats := make([]string, len(channels))
	for i, c := range channels {
		cats[i] = label(c)
	}
	ch, err := barChart(barSpec{Categories: cats, Groups: groups, ValueLabel: "credited conversions",
		Width: fullWidth, Height: fullHeight})
	fp, err := figurePart(name, "Credited conversions per channel and model, "+period, ch, err, "no credited conversion in "+period+".", true)
	if err != nil {
		return nil, err
	}
	if fp.Figure == nil {
		return []part{fp}, nil
	}
	t := &table{Caption: "Credited conversions, " + period, Head: []string{"Channel"}}
	for _, m := range models {
		t.Head = append(t.Head, modelLabel(m))
	}
	for _, chn := range channels {
		row := []cell{textCell(label(chn))}
		for _, m := range models {
			row = append(row, numCell(fmtNumber(c[m][chn], 1)))
		}
		t.Rows = append(t.Rows, row)
	}
	return []part{fp, {Table: t, Wide: true}}, nil
}

// attributionSection is section 4: each attribution model's credited
// conversions per channel, side by side, for the latest month and summed
// over the last 12 months.
func attributionSection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	from12 := monthOf(day).AddDate(0, 1-attributionMonths, 0)
	s := section{ID: "attribution", Title: "Attribution by model",
		Window: fmt.Sprintf("cold.attribution: the latest complete month on or before %s, and the %d months %s to %s summed.",
			fmtDate(day), attributionMonths, fmtMonth(from12), fmtMonth(day))}
	ok, err := tableExists(ctx, rd, "cold.attribution")
	if err != nil || !ok {
		s.Parts = append(s.Parts, emptyPart("", "the attribution table cold.attribution has not been built yet."))
		return s, err
	}
	month, complete, ok, err := reportMonth(ctx, rd, "cold.attribution", day)
	if err != nil {
		return s, err
	}
	if !ok {
		s.Parts = append(s.Parts, emptyPart("", fmt.Sprintf("cold.attribution has no month starting on or before %s.", fmtDate(day))))
		return s, nil
	}
	s.Window = fmt.Sprintf("cold.attribution: %s; and the %d months %s to %s summed. Models run on every journey; 'other channels' sums the channels with fewer than k converting customers, '(unattributed)' the conversions without any touch.",
		monthWindow(month, complete, day), attributionMonths, fmtMonth(from12), fmtMonth(day))
	for _, per := range []struct {
		name, label string
		from, to    time.Time
	}{
		{"attribution-month", fmtMonth(month), month, month},
		{"attribution-12m", fmt.Sprintf("%s to %s", fmtMonth(from12), fmtMonth(day)), from12, day},
	} {
		c, err := loadCredits(ctx, rd, per.from, per.to)
		if err != nil {
			return s, err
		}
		parts, err := attributionParts(per.name, per.label, c)
		if err != nil {
			return s, err
		}
		s.Parts = append(s.Parts, parts...)
	}
	rp, err := roasPart(ctx, rd, month, v.Currency)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, rp)
	return s, nil
}

// modelLabel is a model name as a header or legend shows it: words, so a
// table of ten models wraps its headers and fits the page.
func modelLabel(model string) string { return label(model) }

// roasModels are the models the return-on-spend table sets side by side:
// one data-driven, one rule-based, as a marketing team compares them.
var roasModels = []string{"markov_order_1", "last_touch"}

// roasPart is the month's return on spend per channel (cold.return_on_spend):
// spend, the data-driven model's credited conversions and revenue, ROAS
// and cost per conversion under both roasModels, and CAC. n/a where a
// ratio has no denominator.
func roasPart(ctx context.Context, rd reader, month time.Time, cur string) (part, error) {
	const heading = "Return on spend"
	ok, err := tableExists(ctx, rd, "cold.return_on_spend")
	if err != nil || !ok {
		return emptyPart(heading, "the table cold.return_on_spend has not been built yet."), err
	}
	type line struct {
		spend, conv, rev  float64
		roas, cpa, cac    sql.NullFloat64
		lastRoas, lastCpa sql.NullFloat64
		newCustomers      sql.NullInt64
	}
	byCh := map[string]*line{}
	var order []string
	err = queryEach(ctx, rd, htmlSQL, "return_on_spend",
		[]any{sql.Named("month", fmtDate(month)), sql.Named("model", roasModels[0]), sql.Named("compared_model", roasModels[1])}, func(r *sql.Rows) error {
			var ch, model string
			var spend, conv, rev float64
			var roas, cpa, cac sql.NullFloat64
			var nc sql.NullInt64
			if err := r.Scan(&ch, &model, &spend, &conv, &rev, &roas, &cpa, &nc, &cac); err != nil {
				return err
			}
			l := byCh[ch]
			if l == nil {
				l = &line{}
				byCh[ch] = l
				order = append(order, ch)
			}
			l.spend, l.newCustomers, l.cac = spend, nc, cac
			if model == roasModels[0] {
				l.conv, l.rev, l.roas, l.cpa = conv, rev, roas, cpa
			} else {
				l.lastRoas, l.lastCpa = roas, cpa
			}
			return nil
		})
	if err != nil {
		return part{}, fmt.Errorf("read cold.return_on_spend: %w", err)
	}
	if len(order) == 0 {
		return emptyPart(heading, "no spend and no credited conversion in "+fmtMonth(month)+"."), nil
	}
	ratio := func(v sql.NullFloat64) cell {
		if !v.Valid {
			return numCell("n/a")
		}
		return numCell(fmtNumber(v.Float64, 2))
	}
	money := func(v sql.NullFloat64) cell {
		if !v.Valid {
			return numCell("n/a")
		}
		return numCell(fmtMoney(v.Float64, 2, cur))
	}
	t := &table{Caption: "Return on spend, " + fmtMonth(month) + " (conversions and revenue as Markov order 1 credits them)",
		Head: []string{"Channel", "Spend", "Conversions", "Revenue", "ROAS (Markov 1)", "Cost per conversion (Markov 1)",
			"ROAS (last touch)", "Cost per conversion (last touch)", "New customers", "CAC"}}
	for _, ch := range order {
		l := byCh[ch]
		nc := numCell("n/a")
		if l.newCustomers.Valid {
			nc = numCell(fmtInt(l.newCustomers.Int64))
		}
		t.Rows = append(t.Rows, []cell{textCell(label(ch)), numCell(fmtMoney(l.spend, 0, cur)), numCell(fmtNumber(l.conv, 1)),
			numCell(fmtMoney(l.rev, 0, cur)), ratio(l.roas), money(l.cpa), ratio(l.lastRoas), money(l.lastCpa), nc, money(l.cac)})
	}
	return part{Heading: heading, Table: t, Wide: true}, nil
}
