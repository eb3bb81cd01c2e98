package report

import (
	"bytes"
	"context"
	htmlpkg "html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/publish"
	"github.com/parcours/parcours/orchestration"
)

// sectionIDs are the report's sections in order.
func sectionIDs() []string {
	return []string{"glance", "kpis", "funnel", "transitions", "attribution", "segments", "models", "quality", "privacy"}
}

// wantCharts are the figures the hand-built warehouse gives, in page order.
func wantCharts() []string {
	return []string{"revenue", "orders", "conversion-rate", "cart-abandonment", "nps", "csat", "ces",
		"funnel-web", "funnel-app", "transitions", "attribution-month", "attribution-12m",
		"segments-lifecycle", "segments-rfm", "segments-value", "churn-roc", "churn-lift", "churn-gains", "churn-calibration",
		"clv-holdout", "ingest", "ingest-problems", "consent-share", "suppressed-cells"}
}

func renderString(t *testing.T, db Querier, sqls Sections, date time.Time) (string, []string) {
	t.Helper()
	var b bytes.Buffer
	charts, err := render(context.Background(), db, sqls, date, time.Date(2026, 6, 11, 3, 4, 0, 0, time.UTC), &b, options{currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), charts
}

// sectionHTML cuts one <section> out of the page.
func sectionHTML(t *testing.T, html, id string) string {
	t.Helper()
	start := strings.Index(html, `<section id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no section %s", id)
	}
	end := strings.Index(html[start:], "</section>")
	if end < 0 {
		t.Fatalf("section %s not closed", id)
	}
	return html[start : start+end]
}

// figureHTML cuts one <figure data-chart> out of the page.
func figureHTML(html, name string) string {
	start := strings.Index(html, `<figure data-chart="`+name+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(html[start:], "</figure>")
	return html[start : start+end]
}

func TestRenderEmptyWarehouse(t *testing.T) {
	wh := openWH(t)
	html, charts := renderString(t, wh.DB, wh.SQL, day(reportDay))
	if len(charts) != 0 {
		t.Errorf("charts on an empty warehouse: %v", charts)
	}
	for _, id := range sectionIDs() {
		s := sectionHTML(t, html, id)
		if !strings.Contains(s, "No data yet") {
			t.Errorf("section %s does not say there is no data yet", id)
		}
		if !strings.Contains(s, "Data window:") {
			t.Errorf("section %s states no data window", id)
		}
	}
	if strings.Contains(html, "<figure") || strings.Contains(html, "NaN") {
		t.Error("figure or NaN on an empty warehouse")
	}
}

// A store opened read-only before the cold file or a table exists: the
// report still renders, every section saying so.
func TestRenderMissingTables(t *testing.T) {
	wh := openWH(t)
	exec(t, wh, "DROP TABLE cold.kpis", "DROP TABLE ops.models", "DROP TABLE ops.privacy_audit", "DROP TABLE cold.consent_daily", "DROP TABLE IF EXISTS cold.segment_profiles")
	html, _ := renderString(t, wh.DB, wh.SQL, day(reportDay))
	for _, id := range []string{"kpis", "models", "privacy", "segments"} {
		if s := sectionHTML(t, html, id); !strings.Contains(s, "has not been built yet") && !strings.Contains(s, "has not been created yet") {
			t.Errorf("section %s does not say its table is missing", id)
		}
	}
}

func TestRenderFilledWarehouse(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	html, charts := renderString(t, wh.DB, wh.SQL, day(reportDay))
	if !slices.Equal(charts, wantCharts()) {
		t.Errorf("charts\n got %v\nwant %v", charts, wantCharts())
	}
	for _, name := range wantCharts() {
		f := figureHTML(html, name)
		if f == "" || !strings.Contains(f, "<svg") || !strings.Contains(f, "</svg>") || !strings.Contains(f, "<figcaption>") {
			t.Errorf("figure %s: missing, without svg or without caption", name)
		}
	}
	if n := strings.Count(html, "<figure data-chart="); n != len(wantCharts()) {
		t.Errorf("%d figures in the HTML, want %d", n, len(wantCharts()))
	}
	for _, id := range sectionIDs() {
		if s := sectionHTML(t, html, id); !strings.Contains(s, "Data window:") {
			t.Errorf("section %s states no data window", id)
		}
		if !strings.Contains(html, `<a href="#`+id+`">`) {
			t.Errorf("table of contents has no link to %s", id)
		}
	}
	for _, bad := range []string{"NaN", "http://", "https://", "<script", "src=", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML holds %q", bad)
		}
	}
	// Header: date and generation time.
	for _, want := range []string{"Report for 2026-06-10", "2026-06-11 03:04 UTC"} {
		if !strings.Contains(html, want) {
			t.Errorf("header lacks %q", want)
		}
	}
}

// Nothing personal: keys, emails, audit subjects and request ids planted
// in hot and ops tables stay out of the report.
func TestRenderNothingPersonal(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	html, _ := renderString(t, wh.DB, wh.SQL, day(reportDay))
	for _, secret := range []string{plantedKey, plantedEmail, plantedSubject, plantedRequest, "example.com"} {
		if strings.Contains(html, secret) {
			t.Errorf("the report holds %q", secret)
		}
	}
}

func TestRenderTiles(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	html, _ := renderString(t, wh.DB, wh.SQL, day(reportDay))
	re := regexp.MustCompile(`<div class="tile (\w+)" data-kpi="(\w+)" data-value="([^"]*)" data-prev="([^"]*)" data-change="([^"]*)">\s*<div class="label">[^<]*</div>\s*<div class="value">([^<]*)</div>\s*<div class="change">([^<]*)</div>`)
	got := map[string][]string{}
	for _, m := range re.FindAllStringSubmatch(html, -1) {
		got[m[2]] = m[1:]
	}
	num := func(s string) float64 {
		if s == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("data attribute %q: %v", s, err)
		}
		return v
	}
	nan := math.NaN()
	for _, tc := range []struct {
		kpi                 string
		value, prev, change float64
		tone, text, change2 string
	}{
		{"revenue", 1200, 1000, 0.2, "good", "1,200.00", "+20.0% vs 7-day mean (1,000.00)"},
		{"orders", 30, 20, 0.5, "good", "30", "+50.0% vs 7-day mean (20)"},
		{"average_basket", 40, 2100.0 / 45, 40/(2100.0/45) - 1, "bad", "40.00", "-14.3% vs previous 7 days (46.67)"},
		// +0.33 pt on 1,000 sessions against 1,500 is chance (z = 0.38): no colour.
		{"conversion_rate", 0.05, 70.0 / 1500, 0.05 - 70.0/1500, "flat", "5.00%", "+0.33 pt vs previous 7 days (4.67%)"},
		// +10 pt on 100 carts against 100 is not significant either (z = 1.48).
		{"cart_abandonment_rate", 0.7, 0.6, 0.1, "flat", "70.00%", "+10.00 pt vs previous 7 days (60.00%)"},
		{"new_customers", nan, 12, nan, "flat", "—", "no figure for 2026-06-10"},
	} {
		m, ok := got[tc.kpi]
		if !ok {
			t.Errorf("no tile %s", tc.kpi)
			continue
		}
		tone, v, p, c, text, change := m[0], num(m[2]), num(m[3]), num(m[4]), htmlpkg.UnescapeString(m[5]), htmlpkg.UnescapeString(m[6])
		for _, pair := range [][2]float64{{v, tc.value}, {p, tc.prev}, {c, tc.change}} {
			if math.IsNaN(pair[0]) != math.IsNaN(pair[1]) || (!math.IsNaN(pair[1]) && math.Abs(pair[0]-pair[1]) > 1e-12) {
				t.Errorf("tile %s: value/prev/change %v %v %v, want %v %v %v", tc.kpi, v, p, c, tc.value, tc.prev, tc.change)
				break
			}
		}
		if tone != tc.tone || text != tc.text || change != tc.change2 {
			t.Errorf("tile %s: %q %q %q, want %q %q %q", tc.kpi, tone, text, change, tc.tone, tc.text, tc.change2)
		}
	}
}

// The tables beside the charts carry the hand-computed numbers.
func TestRenderSectionNumbers(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	html, _ := renderString(t, wh.DB, wh.SQL, day(reportDay))
	row := func(cells ...string) string {
		return strings.Join(cells, "")
	}
	td := func(s string) string { return "<td class=\"\">" + s + "</td>" }
	tn := func(s string) string { return "<td class=\"n\">" + s + "</td>" }
	// a warehouse name shown in words, itself in the tooltip
	tw := func(words, name string) string { return "<td class=\"\" title=\"" + name + "\">" + words + "</td>" }
	for _, tc := range []struct {
		section string
		want    []string
		absent  []string
	}{
		{"funnel", []string{"May 2026", row(td("Checkout"), tn("120"), tn("12.0%"), tn("40.0%")), row(td("Purchase"), tn("45"), tn("9.0%"), tn("50.0%"))},
			[]string{"9,999"}},
		{"transitions", []string{"May 2026, the latest complete month", `<td class="n h5" title="60 transitions">60%</td>`, `<td class="n h8" title="50 transitions">100%</td>`},
			[]string{"store"}},
		// 12 months from July 2025: first_touch email 10 + 3 = 13, last_touch web 11 + 3 = 14, app 1 (June);
		// May 2025 left out.
		{"attribution", []string{"May 2026, the latest complete month", "July 2025 to June 2026",
			"<th scope=\"col\">Markov order 1</th>",
			row(td("Email"), tn("13.0"), tn("4.0"), tn("7.3")), row(td("Web"), tn("5.0"), tn("14.0"), tn("7.7")),
			row(td("App"), tn("1.0"), tn("0.0"), tn("0.0")), row(td("Unattributed (no touch)"), tn("2.0"), tn("2.0"), tn("2.0")),
			// return on spend, largest spend first; n/a where a ratio has no denominator; first touch not shown
			row(td("Email"), tn("€100"), tn("7.3"), tn("€360"), tn("3.60"), tn("€13.70"), tn("2.00"), tn("€25.00"), tn("5"), tn("€20.00")),
			row(td("Display"), tn("€50"), tn("0.0"), tn("€0"), tn("0.00"), tn("n/a"), tn("0.00"), tn("n/a"), tn("n/a"), tn("n/a")),
			row(td("Web"), tn("€0"), tn("7.7"), tn("€390"), tn("n/a"), tn("n/a"), tn("n/a"), tn("n/a"), tn("n/a"), tn("n/a"))}, []string{"1,000.0", "999"}},
		// labels in words (ids in the tooltip); the RFM profile as a table with units
		{"segments", []string{"computed on 2026-06-09", row(tw("Value", "value"), tw("High spenders", "value:high spenders"), tn("120"), tn("24.0%"),
			td("Spend &lt;b&gt;3x&lt;/b&gt; the average &amp; buy monthly")),
			row(tw("Lifecycle", "lifecycle"), tw("Loyal", "lifecycle:loyal"), tn("150"), tn("75.0%")),
			row(tw("RFM", "rfm"), tw("Champions", "rfm:champions"), tn("40"), tn("100.0%")),
			"<th scope=\"col\">Days since last purchase</th><th scope=\"col\">Spend, last 365 days (EUR)</th><th scope=\"col\">Frequency score (1–5)</th>",
			row(td("Champions"), tn("12"), tn("€1,235"), tn("4.2"))}, []string{"future segment", "<b>3x", "recency_days 12.5"}},
		{"models", []string{"AUC 0.833", "churn-logreg-1", row(td("ROC AUC"), tn("0.833")), row(td("7&#43;"), tn("18"), tn("6.210"), tn("7.000")),
			row(td("parameter alpha"), tn("4.4140"))}, []string{"churn-logreg-old"}},
		// web_events: 150 read, 90 loaded, 36 quarantined (24%), 4 duplicate, 20 not loaded, 3 quarantine rows held.
		{"quality", []string{row(tw("Web events", "web_events"), tn("2"), tn("1"), tn("150"), tn("90"), tn("36"), tn("4"), tn("20"), tn("24.00%"), tn("3")),
			row(tw("All sources", "all sources"), tn("3"), tn("1"), tn("350"), tn("290"), tn("36"), tn("4"), tn("20"), tn("10.29%"), tn("3"))}, []string{"1,000"}},
		// erasure: 2 entries, 1 request, 12 rows, all recent; consent purge: 1 entry, 40 rows, none recent; the one after D left out.
		{"privacy", []string{"k = 10", row(tw("Erasure", "erasure"), td("erasure requests carried out (one entry per subject)"), tn("2"), tn("1"), tn("12"), tn("2"), tn("12")),
			row(tw("Consent purge", "consent_purge"), td("hot rows removed when consent expired or was withdrawn"), tn("1"), tn("0"), tn("40"), tn("0"), tn("0")),
			row(tw("Marketing email", "marketing_email"), tn("2026-06-10"), tn("220"), tn("99"), tn("45.0%")),
			row(tw("Survey scores", "survey_scores"), tn("10"), tn("120"), tn("8"), tn("3"), tn("2026-06-10"))}, []string{"500"}},
	} {
		s := sectionHTML(t, html, tc.section)
		for _, w := range tc.want {
			if !strings.Contains(s, w) {
				t.Errorf("section %s lacks %s", tc.section, w)
			}
		}
		for _, a := range tc.absent {
			if strings.Contains(s, a) {
				t.Errorf("section %s holds %q, which is outside its window", tc.section, a)
			}
		}
	}
}

// The month charts show the latest complete month: June (partial) credits
// app, which only the 12-month chart may show.
func TestRenderMonthCharts(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	html, _ := renderString(t, wh.DB, wh.SQL, day(reportDay))
	month, year := figureHTML(html, "attribution-month"), figureHTML(html, "attribution-12m")
	if strings.Contains(month, ">App<") || !strings.Contains(month, ">Email<") || !strings.Contains(year, ">App<") {
		t.Error("attribution charts: June's partial credits must be in the 12-month chart only")
	}
	if f := figureHTML(html, "transitions"); strings.Contains(f, ">store<") || !strings.Contains(f, ">no_conversion<") {
		t.Error("transition heat map is not May's")
	}
}

// With no complete month yet, the month charts show the current month and
// say it is partial.
func TestRenderMonthFallback(t *testing.T) {
	wh := openWH(t)
	exec(t, wh,
		`INSERT INTO cold.channel_transitions VALUES ('2026-06-01', 'start', 'store', 77, 1.0, 20)`,
		`INSERT INTO cold.attribution VALUES ('2026-06-01', 'linear', 'store', 3, 30, 20)`,
		`INSERT INTO cold.funnel_dropoff VALUES ('2026-06-01', 'web', 'visit', 1, 9999, 1.0, NULL, 50)`)
	html, charts := renderString(t, wh.DB, wh.SQL, day(reportDay))
	if want := []string{"transitions", "attribution-month", "attribution-12m"}; !slices.Equal(charts, want) {
		t.Errorf("charts %v, want %v", charts, want)
	}
	for _, id := range []string{"transitions", "attribution"} {
		if s := sectionHTML(t, html, id); !strings.Contains(s, "June 2026 so far (no complete month yet on 2026-06-10)") {
			t.Errorf("section %s does not say its month is partial", id)
		}
	}
	// The funnel shows complete months only.
	if s := sectionHTML(t, html, "funnel"); !strings.Contains(s, "No data yet: cold.funnel_dropoff has no complete month") {
		t.Error("funnel drew a partial month")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old report"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(context.Background(), wh.DB, wh.SQL, day(reportDay), path, nil, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>")) {
		t.Errorf("report file is not a whole HTML document (%d bytes)", len(b))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d files, want only the report (no temp file left)", len(entries))
	}
	// A failing render (cancelled context) leaves the previous report alone.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WriteFile(ctx, wh.DB, wh.SQL, day(reportDay), path, nil, ""); err == nil {
		t.Error("cancelled render succeeded")
	}
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Error("a failed render changed the report file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed render left %d files", len(entries))
	}
}

func TestJob(t *testing.T) {
	j := New()
	sp := j.Spec()
	if sp.Name != "report" || !slices.Equal(sp.Needs, []string{"export"}) || !slices.Equal(sp.After, []string{"score", "segments", "kpis", "attribution"}) {
		t.Errorf("spec %+v", sp)
	}
	wh := openWH(t)
	plant(t, wh)
	cfg := config.Default()
	cfg.ExportDir = filepath.Join(t.TempDir(), "exports")
	env := &orchestration.Env{Date: day(reportDay), WH: wh, Config: &cfg, Log: zerolog.Nop()}
	// A temp file a killed run left is swept.
	os.MkdirAll(filepath.Join(cfg.ExportDir, "reports"), 0o700)
	stale := filepath.Join(cfg.ExportDir, "reports", ".report-2026-06-09.html.123.tmp")
	os.WriteFile(stale, []byte("half"), 0o600)
	old := time.Now().Add(-2 * publish.SweepAge)
	os.Chtimes(stale, old, old)
	c, err := j.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the temp file of an interrupted report is still there")
	}
	path := filepath.Join(cfg.ExportDir, "reports", "report-2026-06-10.html")
	if path != Path(cfg.ExportDir, day(reportDay)) {
		t.Errorf("Path = %s", Path(cfg.ExportDir, day(reportDay)))
	}
	for p, want := range map[string]os.FileMode{path: 0o644, filepath.Dir(path): 0o755} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (shared, whatever the umask)", p, fi.Mode().Perm(), want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Out != 1 || c.Detail["charts"] != int64(len(wantCharts())) || strings.Count(string(b), "<figure data-chart=") != len(wantCharts()) {
		t.Errorf("counts %+v, file with %d figures", c, strings.Count(string(b), "<figure data-chart="))
	}
	// Idempotent: a second run replaces the file.
	if _, err := j.Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("reports folder holds %d files after two runs", len(entries))
	}
}

// Render through a *sql.Conn works like through the *sql.DB.
func TestRenderOnConn(t *testing.T) {
	wh := openWH(t)
	plant(t, wh)
	conn, err := wh.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b bytes.Buffer
	if err := Render(context.Background(), conn, wh.SQL, day(reportDay), &b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "<figure data-chart="); n != len(wantCharts()) {
		t.Errorf("%d figures", n)
	}
}
