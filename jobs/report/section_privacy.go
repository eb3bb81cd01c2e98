package report

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// consentDays is the window of the consented-share chart.
const consentDays = 365

// consentPoint is one row of cold.consent_daily.
type consentPoint struct {
	Day              time.Time
	Known, Consented int64
	Share            float64
}

// auditAction is ops.privacy_audit summed for one action.
type auditAction struct {
	Action                  string
	Entries, Requests, Rows int64
	RecentEntries           int64
	RecentRows              int64
}

// privacySection is section 8: consented share per purpose over time,
// what the k rule suppressed or rolled up per cold table, and the purges
// and erasures of ops.privacy_audit (counts only).
func privacySection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	from := day.AddDate(0, 0, 1-consentDays)
	recent := day.AddDate(0, 0, 1-qualityDays)
	s := section{ID: "privacy", Title: "Privacy",
		Window: fmt.Sprintf("consent snapshots from %s to %s (cold.consent_daily); the last publication of each cold table (cold.suppressed_cells); privacy actions logged up to %s, and in the %d days from %s (ops.privacy_audit, counts only).",
			fmtDate(from), fmtDate(day), fmtDate(day), qualityDays, fmtDate(recent))}
	parts, err := consentParts(ctx, rd, from, day)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, parts...)
	parts, err = suppressionParts(ctx, rd)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, parts...)
	parts, err = auditParts(ctx, rd, recent, day)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, parts...)
	return s, nil
}

// consentParts draws the consented share per purpose over time and the
// latest snapshot.
func consentParts(ctx context.Context, rd reader, from, to time.Time) ([]part, error) {
	const heading = "Consented share per purpose"
	ok, err := tableExists(ctx, rd, "cold.consent_daily")
	if err != nil || !ok {
		return []part{emptyPart(heading, "the consent table cold.consent_daily has not been built yet.")}, err
	}
	byPurpose := map[string][]consentPoint{}
	var purposes []string
	err = queryEach(ctx, rd, "cold.consent_daily.sql", "report_shares", []any{sql.Named("from", fmtDate(from)), sql.Named("to", fmtDate(to))},
		func(r *sql.Rows) error {
			var p consentPoint
			var purpose string
			var share sql.NullFloat64
			if err := r.Scan(&purpose, &p.Day, &p.Known, &p.Consented, &share); err != nil {
				return err
			}
			p.Day, p.Share = dayOf(p.Day), nullFloat(share)
			if byPurpose[purpose] == nil {
				purposes = append(purposes, purpose)
			}
			byPurpose[purpose] = append(byPurpose[purpose], p)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read cold.consent_daily: %w", err)
	}
	if len(purposes) == 0 {
		return []part{emptyPart(heading, fmt.Sprintf("cold.consent_daily has no snapshot from %s to %s.", fmtDate(from), fmtDate(to)))}, nil
	}
	var srs []series
	t := &table{Caption: "Latest snapshot per purpose", Head: []string{"Purpose", "Day", "Known customers", "Consented", "Share"}}
	for _, p := range purposes {
		sr := series{Name: p}
		for _, pt := range byPurpose[p] {
			sr.X = append(sr.X, unixDay(pt.Day))
			sr.Y = append(sr.Y, pt.Share)
		}
		srs = append(srs, sr)
		last := byPurpose[p][len(byPurpose[p])-1]
		t.Rows = append(t.Rows, []cell{nameCell(p), numCell(fmtDate(last.Day)), numCell(fmtInt(last.Known)),
			numCell(fmtInt(last.Consented)), numCell(fmtPercent(last.Share, 1))})
	}
	c, err := lineChart(lineSpec{Series: srs, X: axisDay, Y: axisPercent, YLabel: "share of known customers", ZeroBased: true})
	pt, err := figurePart("consent-share", "Share of known customers with a valid consent, per purpose (a purpose under k consenting customers is not published)",
		c, err, "no consent share to draw.", false)
	if err != nil {
		return nil, err
	}
	return []part{pt, {Table: t}}, nil
}

// suppressionParts shows what the k-anonymity rule did to each cold table
// at its last publication, and the k it used.
func suppressionParts(ctx context.Context, rd reader) ([]part, error) {
	const heading = "k-anonymity: suppressed and rolled-up cells"
	ok, err := tableExists(ctx, rd, "cold.suppressed_cells")
	if err != nil || !ok {
		return []part{emptyPart(heading, "cold.suppressed_cells has not been built yet.")}, err
	}
	type row struct {
		table                           string
		k                               int64
		published, rolledUp, suppressed int64
		on                              time.Time
	}
	var rows []row
	ks := map[int64]bool{}
	err = queryEach(ctx, rd, "cold.suppressed_cells.sql", "report_tables", nil, func(r *sql.Rows) error {
		var x row
		if err := r.Scan(&x.table, &x.k, &x.published, &x.rolledUp, &x.suppressed, &x.on); err != nil {
			return err
		}
		rows = append(rows, x)
		ks[x.k] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cold.suppressed_cells: %w", err)
	}
	if len(rows) == 0 {
		return []part{emptyPart(heading, "no cold table has been published yet, so no k has been applied.")}, nil
	}
	var kList []string
	for k := range ks {
		kList = append(kList, strconv.FormatInt(k, 10))
	}
	sort.Strings(kList)
	kText := fmt.Sprintf("k = %s: every published cold row stands for at least %s distinct customers; smaller cells are rolled up into coarser ones or suppressed.",
		strings.Join(kList, ", "), strings.Join(kList, " or "))
	t := &table{Caption: "Per cold table, at its last publication", Head: []string{"Cold table", "k", "Published rows", "Rolled-up cells", "Suppressed cells", "Published for"}}
	var cats []string
	rolled, supp := series{Name: "rolled up"}, series{Name: "suppressed"}
	for _, x := range rows {
		t.Rows = append(t.Rows, []cell{nameCell(x.table), numCell(strconv.FormatInt(x.k, 10)), numCell(fmtInt(x.published)),
			numCell(fmtInt(x.rolledUp)), numCell(fmtInt(x.suppressed)), numCell(fmtDate(x.on))})
		cats = append(cats, x.table)
		rolled.Y = append(rolled.Y, float64(x.rolledUp))
		supp.Y = append(supp.Y, float64(x.suppressed))
	}
	c, err := barChart(barSpec{Categories: cats, Groups: []series{rolled, supp}, Horizontal: true, ValueLabel: "cells",
		Height: vgLen(max(160, 60+26*len(cats)))})
	pt, err := figurePart("suppressed-cells", "Cells rolled up or suppressed by the k rule, per cold table", c, err, "nothing to draw.", false)
	if err != nil {
		return nil, err
	}
	return []part{{Heading: heading, Text: kText, Wide: true}, pt, {Table: t}}, nil
}

// auditParts sums ops.privacy_audit per action: entries, distinct
// requests and rows, up to day and over the recent window. Subjects and
// request ids are never read, only counted.
func auditParts(ctx context.Context, rd reader, recent, day time.Time) ([]part, error) {
	const heading = "Purges and erasures"
	ok, err := tableExists(ctx, rd, "ops.privacy_audit")
	if err != nil || !ok {
		return []part{emptyPart(heading, "the audit log ops.privacy_audit has not been created yet.")}, err
	}
	var acts []auditAction
	err = queryEach(ctx, rd, htmlSQL, "privacy_actions", []any{sql.Named("recent", fmtDate(recent)), sql.Named("day", fmtDate(day))},
		func(r *sql.Rows) error {
			var a auditAction
			if err := r.Scan(&a.Action, &a.Entries, &a.Requests, &a.Rows, &a.RecentEntries, &a.RecentRows); err != nil {
				return err
			}
			acts = append(acts, a)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read ops.privacy_audit: %w", err)
	}
	if len(acts) == 0 {
		return []part{emptyPart(heading, fmt.Sprintf("ops.privacy_audit has logged no purge, erasure or scan up to %s.", fmtDate(day)))}, nil
	}
	t := &table{Caption: fmt.Sprintf("Privacy actions by kind, up to %s (rows: rows deleted or affected)", fmtDate(day)),
		Head: []string{"Action", "What it is", "Log entries", "Requests", "Rows", fmt.Sprintf("Entries, last %d days", qualityDays), fmt.Sprintf("Rows, last %d days", qualityDays)}}
	for _, a := range acts {
		t.Rows = append(t.Rows, []cell{nameCell(a.Action), textCell(actionText(a.Action)), numCell(fmtInt(a.Entries)),
			numCell(fmtInt(a.Requests)), numCell(fmtInt(a.Rows)), numCell(fmtInt(a.RecentEntries)), numCell(fmtInt(a.RecentRows))})
	}
	return []part{{Heading: heading, Table: t, Wide: true}}, nil
}

// actionText says what an ops.privacy_audit action is.
func actionText(a string) string {
	switch a {
	case "consent_purge":
		return "hot rows removed when consent expired or was withdrawn"
	case "retention":
		return "rows past their retention limit"
	case "erasure":
		return "erasure requests carried out (one entry per subject)"
	case "erase":
		return "rows deleted for erased subjects, one entry per table"
	case "crypto_shred":
		return "data keys destroyed (vault copies unreadable)"
	case "suppression":
		return "erased subjects added to the suppression list"
	case "landing_drop":
		return "raw landing rows dropped after the run"
	case "scan":
		return "privacy scans"
	}
	return ""
}
