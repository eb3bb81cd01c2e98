package report

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// segment is one row of cold.segment_profiles.
type segment struct {
	Family, Name, Description, Profile string
	Customers                          int64
}

// profileText renders a segment's profile JSON for a table cell: an object
// of plain values as "key value; key value" in key order, anything else
// as compact JSON. It is text: the template escapes it.
func profileText(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return ""
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		var b bytes.Buffer
		if json.Compact(&b, []byte(raw)) == nil {
			return b.String()
		}
		return raw
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		var v string
		switch x := obj[k].(type) {
		case float64:
			v = trimFloat(x)
		case string:
			v = x
		case bool, nil:
			v = fmt.Sprint(x)
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		parts = append(parts, k+" "+v)
	}
	return strings.Join(parts, "; ")
}

// segmentSection is section 5: segment sizes per family and what sets
// each segment apart, from the latest profiles computed on or before D.
func segmentSection(ctx context.Context, db Querier, day time.Time) (section, error) {
	s := section{ID: "segments", Title: "Segments",
		Window: fmt.Sprintf("cold.segment_profiles, the latest computation on or before %s.", fmtDate(day))}
	ok, err := tableExists(ctx, db, "cold.segment_profiles")
	if err != nil || !ok {
		s.Parts = append(s.Parts, emptyPart("", "the segment table cold.segment_profiles has not been built yet (the segments job builds it)."))
		return s, err
	}
	var on sql.NullTime
	if err := queryRow(ctx, db, `SELECT max(computed_on) FROM cold.segment_profiles WHERE computed_on <= CAST(? AS DATE)`,
		[]any{fmtDate(day)}, &on); err != nil {
		return s, fmt.Errorf("read cold.segment_profiles: %w", err)
	}
	if !on.Valid {
		s.Parts = append(s.Parts, emptyPart("", fmt.Sprintf("cold.segment_profiles has no segments computed on or before %s.", fmtDate(day))))
		return s, nil
	}
	s.Window = fmt.Sprintf("cold.segment_profiles computed on %s (the latest on or before %s); each segment stands for at least k customers.",
		fmtDate(on.Time), fmtDate(day))
	var segs []segment
	err = queryEach(ctx, db, `SELECT family, segment, customers, coalesce(description, ''), coalesce(CAST(profile AS VARCHAR), '')
FROM cold.segment_profiles WHERE computed_on = CAST(? AS DATE) ORDER BY family, customers DESC, segment`,
		[]any{fmtDate(on.Time)}, func(r *sql.Rows) error {
			var g segment
			if err := r.Scan(&g.Family, &g.Name, &g.Customers, &g.Description, &g.Profile); err != nil {
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
			cats = append(cats, g.Name)
			sr.Y = append(sr.Y, float64(g.Customers))
		}
		c, err := barChart(barSpec{Categories: cats, Groups: []series{sr}, Horizontal: true, ValueLabel: "customers",
			Height: vgLen(max(150, 60+22*len(cats)))})
		pt, err := figurePart("segments-"+slug(f), fmt.Sprintf("Customers per segment, family %s (%s customers)", f, fmtInt(total)), c, err,
			"no segment in family "+f+".", false)
		if err != nil {
			return s, err
		}
		s.Parts = append(s.Parts, pt)
	}
	t := &table{Caption: "Segment profiles", Head: []string{"family", "segment", "customers", "share of family", "description", "profile"}}
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
			t.Rows = append(t.Rows, []cell{textCell(g.Family), textCell(g.Name), numCell(fmtInt(g.Customers)),
				numCell(fmtPercent(share, 1)), textCell(g.Description), textCell(profileText(g.Profile))})
		}
	}
	s.Parts = append(s.Parts, part{Table: t, Wide: true})
	return s, nil
}
