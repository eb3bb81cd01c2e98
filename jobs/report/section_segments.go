package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parcours/parcours/jobs/segments"
)

// segment is one row of cold.segment_profiles.
type segment struct {
	Family, Name, Label, Description, Profile string
	Customers                                 int64
}

// segmentSection is section 5: segment sizes per family and what sets
// each segment apart, from the latest profiles computed on or before D.
func segmentSection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	s := section{ID: "segments", Title: "Segments",
		Window: fmt.Sprintf("cold.segment_profiles, the latest computation on or before %s.", fmtDate(day))}
	ok, err := tableExists(ctx, rd, "cold.segment_profiles")
	if err != nil || !ok {
		s.Parts = append(s.Parts, emptyPart("", "the segment table cold.segment_profiles has not been built yet (the segments job builds it)."))
		return s, err
	}
	var on sql.NullTime
	if err := queryRow(ctx, rd, htmlSQL, "segments_computed_on", []any{sql.Named("day", fmtDate(day))}, &on); err != nil {
		return s, fmt.Errorf("read cold.segment_profiles: %w", err)
	}
	if !on.Valid {
		s.Parts = append(s.Parts, emptyPart("", fmt.Sprintf("cold.segment_profiles has no segments computed on or before %s.", fmtDate(day))))
		return s, nil
	}
	s.Window = fmt.Sprintf("cold.segment_profiles computed on %s (the latest on or before %s); each segment stands for at least k customers.",
		fmtDate(on.Time), fmtDate(day))
	var segs []segment
	err = queryEach(ctx, rd, htmlSQL, "segments", []any{sql.Named("computed_on", fmtDate(on.Time))}, func(r *sql.Rows) error {
		var g segment
		if err := r.Scan(&g.Family, &g.Name, &g.Label, &g.Customers, &g.Description, &g.Profile); err != nil {
			return err
		}
		segs = append(segs, g)
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("read cold.segment_profiles: %w", err)
	}
	var families []string
	byFamily := map[string][]segment{}
	for _, g := range segs {
		if byFamily[g.Family] == nil {
			families = append(families, g.Family)
		}
		byFamily[g.Family] = append(byFamily[g.Family], g)
	}
	for _, f := range families {
		gs := byFamily[f]
		var total int64
		sr := series{Name: "customers"}
		var cats []string
		for _, g := range gs {
			total += g.Customers
			cats = append(cats, segmentLabel(g))
			sr.Y = append(sr.Y, float64(g.Customers))
		}
		c, err := barChart(barSpec{Categories: cats, Groups: []series{sr}, Horizontal: true, ValueLabel: "customers",
			Height: vgLen(max(150, 60+22*len(cats)))})
		pt, err := figurePart("segments-"+slug(f), fmt.Sprintf("Customers per segment, %s (%s customers)", label(f), fmtInt(total)), c, err,
			"no segment in family "+label(f)+".", false)
		if err != nil {
			return s, err
		}
		s.Parts = append(s.Parts, pt)
	}
	t := &table{Caption: "Segments", Head: []string{"Family", "Segment", "Customers", "Share of family", "What sets it apart"}}
	for _, f := range families {
		var total int64
		for _, g := range byFamily[f] {
			total += g.Customers
		}
		for _, g := range byFamily[f] {
			share := 0.0
			if total > 0 {
				share = float64(g.Customers) / float64(total)
			}
			t.Rows = append(t.Rows, []cell{nameCell(g.Family), {Text: segmentLabel(g), Title: g.Family + ":" + g.Name},
				numCell(fmtInt(g.Customers)), numCell(fmtPercent(share, 1)), textCell(g.Description)})
		}
	}
	s.Parts = append(s.Parts, part{Table: t, Wide: true})
	for _, f := range families {
		if pt, ok := profileTable(f, byFamily[f], v.Currency); ok {
			s.Parts = append(s.Parts, pt)
		}
	}
	return s, nil
}

// segmentLabel is the name people use for a segment: its published label,
// or its id in words for profiles published before labels were.
func segmentLabel(g segment) string {
	if g.Label != "" && g.Label != g.Name {
		return g.Label
	}
	if l, ok := segments.SegmentLabel(g.Family, g.Name); ok {
		return l
	}
	return label(g.Name)
}

// profileTable is a family's profiles as a small table: one row per
// segment, one column per profile key, in words with its unit.
func profileTable(family string, gs []segment, cur string) (part, bool) {
	keys := segments.ProfileKeys(family)
	values := make([]map[string]float64, len(gs))
	used := map[string]bool{}
	for i, g := range gs {
		values[i] = map[string]float64{}
		var obj map[string]any
		if json.Unmarshal([]byte(g.Profile), &obj) != nil {
			continue
		}
		for k, x := range obj {
			if f, ok := x.(float64); ok {
				values[i][k] = f
				used[k] = true
			}
		}
	}
	var cols []string
	for _, k := range keys {
		if used[k] {
			cols = append(cols, k)
		}
	}
	if len(cols) == 0 {
		return part{}, false
	}
	t := &table{Caption: "What a typical customer looks like, " + label(family) + " (segment means)", Head: []string{"Segment"}}
	for _, k := range cols {
		name, unit := segments.FeatureLabel(k)
		switch unit {
		case segments.UnitCurrency:
			if cur != "" {
				name += " (" + cur + ")"
			}
		case segments.UnitShare, segments.UnitProbability:
			name += " (%)"
		case segments.UnitDays, segments.UnitPurchases, segments.UnitSessions:
			if !strings.Contains(strings.ToLower(name), unit) {
				name += " (" + unit + ")"
			}
		}
		t.Head = append(t.Head, name)
	}
	for i, g := range gs {
		row := []cell{textCell(segmentLabel(g))}
		for _, k := range cols {
			x, ok := values[i][k]
			if !ok {
				row = append(row, numCell(dash))
				continue
			}
			_, unit := segments.FeatureLabel(k)
			switch unit {
			case segments.UnitCurrency:
				row = append(row, numCell(fmtMoney(x, 0, cur)))
			case segments.UnitShare, segments.UnitProbability:
				row = append(row, numCell(fmtPercent(x, 0)))
			case segments.UnitDays:
				row = append(row, numCell(fmtNumber(x, 0)))
			default:
				row = append(row, numCell(fmtNumber(x, 1)))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return part{Heading: "Profiles: " + label(family), Table: t, Wide: true}, true
}
