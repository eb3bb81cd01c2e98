package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
)

// transition is one row of cold.channel_transitions.
type transition struct {
	From, To string
	Count    int64
	Share    float64
}

// transitionMatrix lays transitions out as from-rows by to-columns of
// shares: 'start' first among the rows, 'conversion' and 'no_conversion'
// last among the columns, channels in between by name. Missing pairs are
// NaN (none published), not zero: a pair under k is hidden, not absent.
func transitionMatrix(ts []transition) (rows, cols []string, share [][]float64, count [][]int64) {
	fromSet, toSet := map[string]bool{}, map[string]bool{}
	for _, t := range ts {
		fromSet[t.From], toSet[t.To] = true, true
	}
	order := func(set map[string]bool, first []string, last []string) []string {
		var mid []string
		fixed := map[string]bool{}
		for _, f := range append(append([]string{}, first...), last...) {
			fixed[f] = true
		}
		for k := range set {
			if !fixed[k] {
				mid = append(mid, k)
			}
		}
		sort.Strings(mid)
		var out []string
		for _, f := range first {
			if set[f] {
				out = append(out, f)
			}
		}
		out = append(out, mid...)
		for _, l := range last {
			if set[l] {
				out = append(out, l)
			}
		}
		return out
	}
	rows = order(fromSet, []string{"start"}, nil)
	cols = order(toSet, nil, []string{"conversion", "no_conversion"})
	ri, ci := map[string]int{}, map[string]int{}
	for i, r := range rows {
		ri[r] = i
	}
	for i, c := range cols {
		ci[c] = i
	}
	share = make([][]float64, len(rows))
	count = make([][]int64, len(rows))
	for i := range rows {
		share[i] = make([]float64, len(cols))
		count[i] = make([]int64, len(cols))
		for j := range share[i] {
			share[i][j] = math.NaN()
		}
	}
	for _, t := range ts {
		share[ri[t.From]][ci[t.To]] = t.Share
		count[ri[t.From]][ci[t.To]] = t.Count
	}
	return rows, cols, share, count
}

// heatClass is the CSS class shading a share in the matrix table; it uses
// the heat map's palette steps.
func heatClass(v float64) string {
	if !finite(v) {
		return ""
	}
	return fmt.Sprintf("h%d", heatIndex(v))
}

// transitionSection is section 3: how journeys move between channels in
// the latest month.
func transitionSection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	s := section{ID: "transitions", Title: "Channel transitions",
		Window: fmt.Sprintf("the latest complete month on or before %s in cold.channel_transitions.", fmtDate(day))}
	ok, err := tableExists(ctx, rd, "cold.channel_transitions")
	if err != nil || !ok {
		s.Parts = append(s.Parts, emptyPart("", "the transition table cold.channel_transitions has not been built yet."))
		return s, err
	}
	month, complete, ok, err := reportMonth(ctx, rd, "cold.channel_transitions", day)
	if err != nil {
		return s, err
	}
	if !ok {
		s.Parts = append(s.Parts, emptyPart("", fmt.Sprintf("cold.channel_transitions has no month starting on or before %s.", fmtDate(day))))
		return s, nil
	}
	s.Window = monthWindow(month, complete, day) + " (cold.channel_transitions: journeys of that month, converting or not; pairs under k customers are not published)."
	var ts []transition
	err = queryEach(ctx, rd, "cold.channel_transitions.sql", "report_transitions", []any{sql.Named("month", fmtDate(month))}, func(r *sql.Rows) error {
		var t transition
		var sh sql.NullFloat64
		if err := r.Scan(&t.From, &t.To, &t.Count, &sh); err != nil {
			return err
		}
		t.Share = nullFloat(sh)
		ts = append(ts, t)
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("read cold.channel_transitions: %w", err)
	}
	rows, cols, share, count := transitionMatrix(ts)
	c, err := heatMap(heatSpec{Rows: rows, Cols: cols, Z: share, RowLabel: "from", ColLabel: "to",
		Height: vgLen(90 + 24*len(rows))})
	pt, err := figurePart("transitions", fmt.Sprintf("Share of each channel's next steps, %s (row: from, column: to; blank: not published)", fmtMonth(month)),
		c, err, "no transition published for the month.", true)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, pt)
	t := &table{Caption: fmt.Sprintf("Transitions from row to column, %s: share of the row's outgoing steps (count on hover)", fmtMonth(month)),
		Head: append([]string{"from \\ to"}, cols...)}
	for i, r := range rows {
		line := []cell{textCell(r)}
		for j := range cols {
			if !finite(share[i][j]) {
				line = append(line, numCell(""))
				continue
			}
			line = append(line, cell{Text: fmtPercent(share[i][j], 0), Num: true, Heat: heatClass(share[i][j]),
				Title: fmtInt(count[i][j]) + " transitions"})
		}
		t.Rows = append(t.Rows, line)
	}
	s.Parts = append(s.Parts, part{Table: t, Wide: true})
	return s, nil
}
