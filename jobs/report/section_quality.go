package report

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// qualityDays is the data-quality window: the 30 days up to D.
const qualityDays = 30

// sourceQuality is one source's ingest counts over the window.
type sourceQuality struct {
	Source                                   string
	Files, Loaded, Rejected, Failed          int64
	Read, RowsLoaded, Quarantined, Duplicate int64
	QuarantineHeld                           int64 // rows of ops.quarantine still kept
}

// NotLoaded is what was read but neither loaded, quarantined nor a
// re-delivery: the rows of files refused as a whole (over the rejection
// threshold).
func (q sourceQuality) NotLoaded() int64 {
	return max(0, q.Read-q.RowsLoaded-q.Quarantined-q.Duplicate)
}

// loadQuality reads per-source counts from ops.ingest_files and the
// number of quarantined rows still held in ops.quarantine (a count: its
// raw text is never read).
func loadQuality(ctx context.Context, rd reader, from, to time.Time) ([]sourceQuality, error) {
	var out []sourceQuality
	idx := map[string]int{}
	window := []any{sql.Named("from", fmtDate(from)), sql.Named("to", fmtDate(to))}
	err := queryEach(ctx, rd, htmlSQL, "ingest_sources", window, func(r *sql.Rows) error {
		var q sourceQuality
		if err := r.Scan(&q.Source, &q.Files, &q.Loaded, &q.Rejected, &q.Failed, &q.Read, &q.RowsLoaded, &q.Quarantined, &q.Duplicate); err != nil {
			return err
		}
		idx[q.Source] = len(out)
		out = append(out, q)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read ops.ingest_files: %w", err)
	}
	ok, err := tableExists(ctx, rd, "ops.quarantine")
	if err != nil || !ok {
		return out, err
	}
	err = queryEach(ctx, rd, "ops.quarantine.sql", "report_held", window,
		func(r *sql.Rows) error {
			var src string
			var n int64
			if err := r.Scan(&src, &n); err != nil {
				return err
			}
			i, ok := idx[src]
			if !ok {
				idx[src] = len(out)
				out = append(out, sourceQuality{Source: src})
				i = len(out) - 1
			}
			out[i].QuarantineHeld = n
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("count ops.quarantine: %w", err)
	}
	return out, nil
}

// qualitySection is section 7: rows read, loaded, quarantined and
// re-delivered per source over the last 30 days.
func qualitySection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	from := day.AddDate(0, 0, 1-qualityDays)
	s := section{ID: "quality", Title: "Data quality",
		Window: fmt.Sprintf("extract folders dated %s to %s (%d days), from ops.ingest_files; quarantined rows still held, counted in ops.quarantine (never their text).",
			fmtDate(from), fmtDate(day), qualityDays)}
	ok, err := tableExists(ctx, rd, "ops.ingest_files")
	if err != nil || !ok {
		s.Parts = append(s.Parts, emptyPart("", "the ingest ledger ops.ingest_files has not been created yet."))
		return s, err
	}
	qs, err := loadQuality(ctx, rd, from, day)
	if err != nil {
		return s, err
	}
	if len(qs) == 0 {
		s.Parts = append(s.Parts, emptyPart("", fmt.Sprintf("no extract file was ingested from folders dated %s to %s.", fmtDate(from), fmtDate(day))))
		return s, nil
	}
	var cats []string
	groups := []series{{Name: "loaded"}, {Name: "quarantined"}, {Name: "duplicate (re-delivered)"}, {Name: "not loaded (file refused)"}}
	t := &table{Caption: "Rows per source", Head: []string{"Source", "Files", "Refused / failed files", "Rows read", "Loaded",
		"Quarantined", "Duplicate", "Not loaded", "Quarantined share", "Quarantine rows held"}}
	var total sourceQuality
	for _, q := range qs {
		cats = append(cats, q.Source)
		for i, v := range []int64{q.RowsLoaded, q.Quarantined, q.Duplicate, q.NotLoaded()} {
			groups[i].Y = append(groups[i].Y, float64(v))
		}
		t.Rows = append(t.Rows, qualityRow(q.Source, q))
		total.Files += q.Files
		total.Rejected += q.Rejected
		total.Failed += q.Failed
		total.Read += q.Read
		total.RowsLoaded += q.RowsLoaded
		total.Quarantined += q.Quarantined
		total.Duplicate += q.Duplicate
		total.QuarantineHeld += q.QuarantineHeld
	}
	t.Rows = append(t.Rows, qualityRow("all sources", total))
	c, err := barChart(barSpec{Categories: cats, Groups: groups, Stacked: true, ValueLabel: "rows", Width: fullWidth, Height: 260})
	pt, err := figurePart("ingest", fmt.Sprintf("Rows read per source, %s to %s, by what became of them", fmtDate(from), fmtDate(day)), c, err,
		"no row was read in the window.", true)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, pt)
	// Problems are a sliver of the rows read: draw them on their own scale.
	if total.Quarantined+total.Duplicate+total.NotLoaded() == 0 {
		s.Parts = append(s.Parts, part{Text: "Every row read in the window was loaded: none quarantined, re-delivered or refused.", Wide: true})
	} else {
		c, err := barChart(barSpec{Categories: cats, Groups: groups[1:], ColorOffset: 1, Stacked: true, ValueLabel: "rows", Width: fullWidth, Height: 220})
		pt, err := figurePart("ingest-problems", "Rows not loaded as delivered, per source: quarantined, re-delivered or in a refused file", c, err,
			"nothing to draw.", true)
		if err != nil {
			return s, err
		}
		s.Parts = append(s.Parts, pt)
	}
	s.Parts = append(s.Parts, part{Table: t, Wide: true})
	return s, nil
}

// qualityRow is one line of the data-quality table.
func qualityRow(name string, q sourceQuality) []cell {
	share := dash
	if q.Read > 0 {
		share = fmtPercent(float64(q.Quarantined)/float64(q.Read), 2)
	}
	return []cell{nameCell(name), numCell(fmtInt(q.Files)), numCell(fmtInt(q.Rejected + q.Failed)), numCell(fmtInt(q.Read)),
		numCell(fmtInt(q.RowsLoaded)), numCell(fmtInt(q.Quarantined)), numCell(fmtInt(q.Duplicate)), numCell(fmtInt(q.NotLoaded())),
		numCell(share), numCell(fmtInt(q.QuarantineHeld))}
}
