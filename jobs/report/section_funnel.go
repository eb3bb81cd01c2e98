package report

import (
	"context"
	"database/sql"
	"fmt"
)

// funnelStep is one row of cold.funnel_dropoff.
type funnelStep struct {
	Channel, Step    string
	Sessions         int64
	Reached, DropOff float64
}

// funnelSection is section 2: sessions reaching each step and the share
// lost at each step, web and app, in the latest complete month.
func funnelSection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	s := section{ID: "funnel", Title: "Funnel",
		Window: fmt.Sprintf("the latest complete month on or before %s in cold.funnel_dropoff, web and app sessions.", fmtDate(day))}
	ok, err := tableExists(ctx, rd, "cold.funnel_dropoff")
	if err != nil || !ok {
		s.Parts = append(s.Parts, emptyPart("", "the funnel table cold.funnel_dropoff has not been built yet."))
		return s, err
	}
	month, ok, err := latestCompleteMonth(ctx, rd, "cold.funnel_dropoff", day)
	if err != nil {
		return s, err
	}
	if !ok {
		s.Parts = append(s.Parts, emptyPart("", fmt.Sprintf("cold.funnel_dropoff has no complete month of web or app sessions ending on or before %s.", fmtDate(day))))
		return s, nil
	}
	s.Window = fmt.Sprintf("%s (%s to %s), the latest complete month on or before %s; web and app sessions from cold.funnel_dropoff.",
		fmtMonth(month), fmtDate(month), fmtDate(month.AddDate(0, 1, -1)), fmtDate(day))
	steps := map[string][]funnelStep{}
	err = queryEach(ctx, rd, "cold.funnel_dropoff.sql", "report_steps", []any{sql.Named("month", fmtDate(month))},
		func(r *sql.Rows) error {
			var f funnelStep
			var reached, drop sql.NullFloat64
			if err := r.Scan(&f.Channel, &f.Step, &f.Sessions, &reached, &drop); err != nil {
				return err
			}
			f.Reached, f.DropOff = nullFloat(reached), nullFloat(drop)
			steps[f.Channel] = append(steps[f.Channel], f)
			return nil
		})
	if err != nil {
		return s, fmt.Errorf("read cold.funnel_dropoff: %w", err)
	}
	for _, ch := range []string{"web", "app"} {
		fs := steps[ch]
		label := map[string]string{"web": "Web", "app": "App"}[ch]
		if len(fs) == 0 {
			s.Parts = append(s.Parts, emptyPart(label, fmt.Sprintf("no %s sessions published for %s.", ch, fmtMonth(month))))
			continue
		}
		sr := series{Name: "sessions"}
		var cats []string
		t := &table{Caption: fmt.Sprintf("%s funnel, %s", label, fmtMonth(month)),
			Head: []string{"Step", "Sessions", "Share of visits", "Lost from previous step"}}
		for i, f := range fs {
			cats = append(cats, stepLabel(f.Step))
			sr.Y = append(sr.Y, float64(f.Sessions))
			t.Rows = append(t.Rows, []cell{textCell(stepLabel(f.Step)), numCell(fmtInt(f.Sessions)),
				numCell(shareOf(f.Reached, visits(fs))), numCell(lostFrom(fs, i))})
		}
		c, err := barChart(barSpec{Categories: cats, Groups: []series{sr}, Horizontal: true, ValueLabel: "sessions"})
		pt, err := figurePart("funnel-"+ch, fmt.Sprintf("%s sessions reaching each step, %s", label, fmtMonth(month)), c, err,
			fmt.Sprintf("no %s session in %s.", ch, fmtMonth(month)), false)
		if err != nil {
			return s, err
		}
		s.Parts = append(s.Parts, pt, part{Table: t})
	}
	return s, nil
}

// shareOf renders a share of den sessions: n/a when there is no session
// to take a share of (a share of nothing is no 100%).
func shareOf(v float64, den int64) string {
	if den <= 0 {
		return notApplicable
	}
	return fmtPercent(v, 1)
}

// lostFrom renders the share of sessions lost at step i: none before the
// first step, n/a when the step before had no session.
func lostFrom(fs []funnelStep, i int) string {
	if i == 0 {
		return dash
	}
	return shareOf(fs[i].DropOff, fs[i-1].Sessions)
}

// visits is the sessions of the funnel's visit step, the denominator of
// every step's share; 1 (trust the stored share) when the step is not
// published.
func visits(fs []funnelStep) int64 {
	for _, f := range fs {
		if f.Step == "visit" {
			return f.Sessions
		}
	}
	return 1
}

// stepLabel names a funnel step in words.
func stepLabel(step string) string {
	switch step {
	case "visit":
		return "Visit"
	case "product_view":
		return "Product view"
	case "cart":
		return "Cart"
	case "checkout":
		return "Checkout"
	case "purchase":
		return "Purchase"
	}
	return step
}
