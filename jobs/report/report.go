// Package report renders the shareable HTML report of a logical date: one
// self-contained file (inline CSS, charts as inline SVG drawn in Go with
// gonum/plot, no script, no URL) that opens offline and prints cleanly.
//
// It reads only what may leave the warehouse: the anonymous, k-anonymous
// cold tables (cold.*) and counts or metrics from the ops tables that hold
// no personal data (model metrics in ops.models, file counts in
// ops.ingest_files, row counts of ops.quarantine per source, counts of
// ops.privacy_audit per action). It never reads a hot analytics table, a
// quarantined row's text, an audit subject or a request id.
//
// Sections: KPI trends, funnel, channel transitions, attribution by model,
// segments, churn and CLV models, data quality, privacy. Each states its
// data window and says "no data yet" when its table is empty, so the
// report renders on a new, empty warehouse; a section whose jobs failed or
// had nothing to do for the date (ops.job_runs) says so and why.
package report

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/publish"
	"github.com/parcours/parcours/orchestration"
)

// Render writes the report for the logical date to w, reading db with the
// statements of sqls (the warehouse's SQL files).
func Render(ctx context.Context, db Querier, sqls Sections, date time.Time, w io.Writer) error {
	_, err := render(ctx, db, sqls, date, time.Now(), w, options{})
	return err
}

// options tune a rendering. states: the date's latest job attempts, which
// mark the sections not up to date (nil: no notes). recordedOnly: a job
// with no ledger row for the date is not reported stale (the merged
// warehouse of customer shards records only its own jobs; ingest, purge
// and scoring ran on the shards).
type options struct {
	states       map[string]orchestration.JobState
	recordedOnly bool
	// currency is the configured ISO 4217 code; "" reads it from the data.
	currency string
}

// render builds and writes the page as of now (the generation time shown
// in the header) and returns the data-chart names of the figures it drew.
func render(ctx context.Context, db Querier, sqls Sections, date, now time.Time, w io.Writer, opt options) ([]string, error) {
	p, err := build(ctx, reader{db: db, sql: sqls}, date, now, opt)
	if err != nil {
		return nil, err
	}
	if err := p.write(w); err != nil {
		return nil, err
	}
	return p.charts(), nil
}

// sectionFunc builds one section for a day.
type sectionFunc func(ctx context.Context, rd reader, v view) (section, error)

// view is what every section is drawn for: the day, and the currency its
// amounts are in.
type view struct {
	Day time.Time
	// Currency is the ISO 4217 code amounts are shown in ("" when unknown:
	// plain numbers).
	Currency string
}

// sectionFuncs are the report's sections, in order.
func sectionFuncs() []sectionFunc {
	return []sectionFunc{glanceSection, kpiSection, funnelSection, transitionSection, attributionSection,
		segmentSection, modelSection, qualitySection, privacySection}
}

// build reads every section's data and draws its charts.
func build(ctx context.Context, rd reader, date, now time.Time, opt options) (*page, error) {
	day := dayOf(date)
	p := &page{Date: fmtDate(day), Generated: now.UTC().Format("2006-01-02 15:04 UTC")}
	cur, note, err := currency(ctx, rd, opt.currency)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", p.Date, err)
	}
	p.Currency, p.CurrencyNote = cur, note
	opt.currency = cur
	for _, f := range sectionFuncs() {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("report %s: %w", p.Date, err)
		}
		s, err := f(ctx, rd, view{Day: day, Currency: opt.currency})
		if err != nil {
			return nil, fmt.Errorf("report %s, section %s: %w", p.Date, s.ID, err)
		}
		if s.Stale = staleNote(s.ID, p.Date, opt.states, opt.recordedOnly); s.Stale != "" {
			p.Stale = append(p.Stale, s.Title)
		}
		p.Sections = append(p.Sections, s)
	}
	return p, nil
}

// WriteFile renders the report for the logical date to path atomically: a
// temporary file in the same folder, synced, then renamed over path, so a
// reader never sees half a report and a failed run leaves the last one.
// Amounts are shown in currency (ISO 4217), or the orders' own when "".
// db is read with the statements of sqls (the warehouse's SQL files).
func WriteFile(ctx context.Context, db Querier, sqls Sections, date time.Time, path string, states map[string]orchestration.JobState, currency string) error {
	_, err := writeFile(ctx, db, sqls, date, time.Now(), path, options{states: states, currency: currency})
	return err
}

// writeFile is WriteFile returning the charts drawn.
func writeFile(ctx context.Context, db Querier, sqls Sections, date, now time.Time, path string, opt options) (charts []string, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write report %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if charts, err = render(ctx, db, sqls, date, now, f, opt); err != nil {
		return nil, err
	}
	if err = f.Chmod(publish.FileMode); err != nil {
		return nil, fmt.Errorf("write report %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return nil, fmt.Errorf("write report %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return nil, fmt.Errorf("write report %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return nil, fmt.Errorf("write report %s: %w", path, err)
	}
	return charts, nil
}

// currency is the code amounts are shown in: the configured one, else the
// one the data carries (ops.currencies, recorded by the split), the most
// used when it carries several; the note says when amounts mix several.
func currency(ctx context.Context, rd reader, configured string) (code, note string, err error) {
	var codes []string
	var counts []int64
	ok, err := tableExists(ctx, rd, "ops.currencies")
	if err != nil || !ok {
		return configured, "", err
	}
	err = queryEach(ctx, rd, "ops.currencies.sql", "report_mix", nil,
		func(r *sql.Rows) error {
			var c string
			var n int64
			if err := r.Scan(&c, &n); err != nil {
				return err
			}
			codes, counts = append(codes, c), append(counts, n)
			return nil
		})
	if err != nil {
		return "", "", fmt.Errorf("read ops.currencies: %w", err)
	}
	code = configured
	if code == "" && len(codes) > 0 {
		code = codes[0]
	}
	var others []string
	var total, other int64
	for i, c := range codes {
		total += counts[i]
		if c != code {
			others = append(others, c)
			other += counts[i]
		}
	}
	if len(others) > 0 {
		note = fmt.Sprintf("Amounts are shown in %s, but %s of the amounts in the extracts are in %s: parcours converts nothing, so sums mix currencies.",
			code, fmtPercent(float64(other)/float64(total), 1), strings.Join(others, ", "))
	}
	return code, note, nil
}
