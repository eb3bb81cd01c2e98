package report

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// svgTexts returns the text drawn in an SVG, in order.
func svgTexts(svg string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<text[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

// checkSVG checks what every drawn chart must be: one inline <svg>
// element, no prolog, no URL, no NaN, a viewBox.
func checkSVG(t *testing.T, name string, c chart) {
	t.Helper()
	s := string(c.SVG)
	if !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
		t.Errorf("%s: not one inline svg element: %.60q", name, s)
	}
	for _, bad := range []string{"NaN", "Inf", "<?xml", "http", "xmlns", "<image", "<!--"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s: svg holds %q", name, bad)
		}
	}
	if !strings.Contains(s, "viewBox=") || !strings.Contains(s, "Liberation Sans',Arial") {
		t.Errorf("%s: no viewBox or no sans-serif font stack", name)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLineChart(t *testing.T) {
	d := func(s string) float64 { return unixDay(day(s)) }
	nan := math.NaN()
	for _, tc := range []struct {
		name       string
		spec       lineSpec
		err        error
		texts      []string // drawn in the SVG
		legend     []string
		notTexts   []string
		wantErrMsg string
	}{
		{name: "daily series", spec: lineSpec{Series: []series{{Name: "revenue", X: []float64{d("2026-03-01"), d("2026-03-02"), d("2026-03-03")}, Y: []float64{10, 20, 15}}},
			X: axisDay, YLabel: "revenue", ZeroBased: true},
			texts: []string{"revenue", "1 Mar", "2 Mar", "3 Mar", "0", "20"}},
		{name: "percent axis and two series with legend", spec: lineSpec{Series: []series{
			{Name: "analytics", X: []float64{d("2026-03-01"), d("2026-03-02")}, Y: []float64{0.5, 0.55}},
			{Name: "marketing_email", X: []float64{d("2026-03-01"), d("2026-03-02")}, Y: []float64{0.2, 0.25}}},
			X: axisDay, Y: axisPercent, ZeroBased: true},
			texts: []string{"0%", "25%", "50%"}, legend: []string{"analytics", "marketing_email"}},
		{name: "NaN points are gaps", spec: lineSpec{Series: []series{{Name: "x", X: []float64{1, 2, 3, nan}, Y: []float64{1, nan, 3, 4}}}, XLabel: "step"},
			texts: []string{"step"}},
		{name: "one monthly point", spec: lineSpec{Series: []series{{Name: "nps", X: []float64{unixDay(day("2026-05-01"))}, Y: []float64{30}}}, X: axisMonth},
			texts: []string{"May 26"}},
		{name: "unit square with diagonal", spec: lineSpec{Series: []series{{Name: "roc", X: []float64{0, 0.2, 1}, Y: []float64{0, 0.7, 1}}}, Diagonal: true, Unit: true,
			XLabel: "false positive rate", YLabel: "true positive rate"},
			texts: []string{"false positive rate", "true positive rate", "0", "0.5", "1"}},
		{name: "escaped labels", spec: lineSpec{Series: []series{{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}}}, XLabel: "<b>&x"},
			texts: []string{"&lt;b&gt;&amp;x"}, notTexts: []string{"<b>&x"}},
		{name: "empty", spec: lineSpec{}, err: errNoData},
		{name: "series without points", spec: lineSpec{Series: []series{{Name: "x"}}}, err: errNoData},
		{name: "only NaN", spec: lineSpec{Series: []series{{Name: "x", X: []float64{1, 2}, Y: []float64{nan, nan}}}}, err: errNoData},
		{name: "mismatched lengths", spec: lineSpec{Series: []series{{Name: "x", X: []float64{1, 2}, Y: []float64{1}}}}, wantErrMsg: "2 x values for 1 y values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := lineChart(tc.spec)
			switch {
			case tc.err != nil || tc.wantErrMsg != "":
				if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) || !strings.Contains(err.Error(), tc.wantErrMsg) {
					t.Fatalf("err %v, want %v %q", err, tc.err, tc.wantErrMsg)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			checkSVG(t, tc.name, c)
			texts := svgTexts(string(c.SVG))
			for _, w := range tc.texts {
				if !contains(texts, w) {
					t.Errorf("no text %q in %q", w, texts)
				}
			}
			for _, w := range tc.notTexts {
				if strings.Contains(string(c.SVG), w) {
					t.Errorf("unescaped %q in svg", w)
				}
			}
			var names []string
			for i, l := range c.Legend {
				names = append(names, l.Name)
				if l.Class != seriesClass(i) {
					t.Errorf("legend %s class %s", l.Name, l.Class)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.legend, ",") {
				t.Errorf("legend %v, want %v", names, tc.legend)
			}
		})
	}
}

func TestBarChart(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		spec   barSpec
		err    error
		msg    string
		texts  []string
		legend []string
		bars   int // filled rectangles of the series colours
	}{
		{name: "one group", spec: barSpec{Categories: []string{"visit", "cart", "purchase"}, Groups: []series{{Name: "sessions", Y: []float64{100, 40, 10}}}, ValueLabel: "sessions"},
			texts: []string{"visit", "cart", "purchase", "sessions", "0", "50", "100"}, bars: 3},
		{name: "grouped with legend", spec: barSpec{Categories: []string{"email", "web"}, Groups: []series{
			{Name: "first_touch", Y: []float64{10, 5}}, {Name: "last_touch", Y: []float64{4, 11}}, {Name: "linear", Y: []float64{7, 8}}}},
			texts: []string{"email", "web"}, legend: []string{"first_touch", "last_touch", "linear"}, bars: 6},
		{name: "stacked, axis bounds the totals", spec: barSpec{Categories: []string{"orders", "web_events"}, Stacked: true, Groups: []series{
			{Name: "loaded", Y: []float64{200, 90}}, {Name: "quarantined", Y: []float64{0, 36}}, {Name: "duplicate", Y: []float64{0, 4}}}},
			texts: []string{"orders", "web_events", "200"}, legend: []string{"loaded", "quarantined", "duplicate"}, bars: 6},
		{name: "horizontal", spec: barSpec{Categories: []string{"high spenders", "occasional"}, Groups: []series{{Name: "customers", Y: []float64{120, 380}}}, Horizontal: true, ValueLabel: "customers"},
			texts: []string{"high spenders", "occasional", "customers"}, bars: 2},
		{name: "NaN is an empty bar", spec: barSpec{Categories: []string{"a", "b"}, Groups: []series{{Name: "x", Y: []float64{nan, 3}}}},
			texts: []string{"a", "b"}, bars: 2},
		// Only zeros (or NaN) draw nothing: the section says so instead.
		{name: "all zero", spec: barSpec{Categories: []string{"a", "b"}, Groups: []series{{Name: "x", Y: []float64{0, nan}}}}, err: errNoData},
		{name: "colour offset", spec: barSpec{Categories: []string{"a"}, Groups: []series{{Name: "x", Y: []float64{1}}, {Name: "y", Y: []float64{2}}}, ColorOffset: 1},
			texts: []string{"a"}, legend: []string{"x", "y"}, bars: 2},
		{name: "percent values", spec: barSpec{Categories: []string{"a"}, Groups: []series{{Name: "x", Y: []float64{0.5}}}, Value: axisPercent}, texts: []string{"50%"}, bars: 1},
		{name: "no categories", spec: barSpec{Groups: []series{{Name: "x"}}}, err: errNoData},
		{name: "no groups", spec: barSpec{Categories: []string{"a"}}, err: errNoData},
		{name: "mismatched", spec: barSpec{Categories: []string{"a", "b"}, Groups: []series{{Name: "x", Y: []float64{1}}}}, msg: "1 values for 2 categories"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := barChart(tc.spec)
			switch {
			case tc.err != nil || tc.msg != "":
				if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %v, want %v %q", err, tc.err, tc.msg)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			checkSVG(t, tc.name, c)
			texts := svgTexts(string(c.SVG))
			for _, w := range tc.texts {
				if !contains(texts, w) {
					t.Errorf("no text %q in %q", w, texts)
				}
			}
			var names []string
			for _, l := range c.Legend {
				names = append(names, l.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.legend, ",") {
				t.Errorf("legend %v, want %v", names, tc.legend)
			}
			// Each bar is a filled path in one of the series colours.
			bars := 0
			for i := range tc.spec.Groups {
				bars += strings.Count(string(c.SVG), "fill:"+strings.ToUpper(paletteHex()[i+tc.spec.ColorOffset]))
			}
			for i, l := range c.Legend {
				if l.Class != seriesClass(i+tc.spec.ColorOffset) {
					t.Errorf("legend %s has class %s", l.Name, l.Class)
				}
			}
			if bars != tc.bars {
				t.Errorf("%d bars drawn, want %d", bars, tc.bars)
			}
		})
	}
}

func TestHeatMap(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		spec  heatSpec
		err   error
		msg   string
		texts []string
		cells int
	}{
		{name: "transitions", spec: heatSpec{Rows: []string{"start", "email"}, Cols: []string{"email", "web", "conversion"},
			Z: [][]float64{{0.6, 0.4, nan}, {nan, 0.25, 0.75}}, RowLabel: "from", ColLabel: "to"},
			texts: []string{"start", "email", "web", "conversion", "from", "to", "60%", "40%", "25%", "75%"}, cells: 4},
		{name: "one cell", spec: heatSpec{Rows: []string{"a"}, Cols: []string{"b"}, Z: [][]float64{{1}}}, texts: []string{"a", "b", "100%"}, cells: 1},
		{name: "empty", spec: heatSpec{}, err: errNoData},
		{name: "all NaN", spec: heatSpec{Rows: []string{"a"}, Cols: []string{"b"}, Z: [][]float64{{nan}}}, err: errNoData},
		{name: "ragged", spec: heatSpec{Rows: []string{"a"}, Cols: []string{"b", "c"}, Z: [][]float64{{1}}}, msg: `row "a" has 1 values for 2 columns`},
		{name: "rows missing", spec: heatSpec{Rows: []string{"a", "b"}, Cols: []string{"c"}, Z: [][]float64{{1}}}, msg: "1 rows of values for 2 row names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := heatMap(tc.spec)
			switch {
			case tc.err != nil || tc.msg != "":
				if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %v, want %v %q", err, tc.err, tc.msg)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			checkSVG(t, tc.name, c)
			texts := svgTexts(string(c.SVG))
			for _, w := range tc.texts {
				if !contains(texts, w) {
					t.Errorf("no text %q in %q", w, texts)
				}
			}
			n := 0
			for _, x := range texts {
				if strings.HasSuffix(x, "%") {
					n++
				}
			}
			if n != tc.cells {
				t.Errorf("%d labelled cells, want %d", n, tc.cells)
			}
		})
	}
}

// The first row of the matrix is drawn at the top: its tick label comes
// last in the SVG's y axis (drawn bottom-up) — and the row order of the
// grid maps Z[r] to the row named Rows[r].
func TestHeatGridOrientation(t *testing.T) {
	s := heatSpec{Rows: []string{"top", "middle", "bottom"}, Cols: []string{"c"}, Z: [][]float64{{0.1}, {0.2}, {0.3}}}
	g := heatGrid{s: &s}
	for _, tc := range []struct {
		r    int
		name string
		z    float64
	}{{0, "bottom", 0.3}, {1, "middle", 0.2}, {2, "top", 0.1}} {
		if g.rowName(tc.r) != tc.name || g.Z(0, tc.r) != tc.z || g.Y(tc.r) != float64(tc.r) {
			t.Errorf("grid row %d: %s %v, want %s %v", tc.r, g.rowName(tc.r), g.Z(0, tc.r), tc.name, tc.z)
		}
	}
}

func TestHeatIndex(t *testing.T) {
	// 9 palette steps over [0, 1], rounded like plotter.HeatMap: int(v*8 + 0.5).
	for _, tc := range []struct {
		v    float64
		want int
	}{{0, 0}, {0.06, 0}, {0.07, 1}, {0.5, 4}, {0.6, 5}, {1, 8}, {1.5, 8}, {-1, 0}} {
		if got := heatIndex(tc.v); got != tc.want {
			t.Errorf("heatIndex(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
	if heatClass(math.NaN()) != "" || heatClass(0.6) != "h5" {
		t.Errorf("heatClass: %q %q", heatClass(math.NaN()), heatClass(0.6))
	}
}

func TestTicks(t *testing.T) {
	d := func(s string) float64 { return unixDay(day(s)) }
	labels := func(k axisKind, min, max float64) []string {
		var out []string
		for _, tk := range ticker(k).Ticks(min, max) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		kind     axisKind
		min, max float64
		want     string
	}{
		{"a week, daily labels", axisDay, d("2026-06-04"), d("2026-06-10"), "4 Jun,5 Jun,6 Jun,7 Jun,8 Jun,9 Jun,10 Jun"},
		{"90 days, every 14 days", axisDay, d("2026-03-13"), d("2026-06-10"), "13 Mar,27 Mar,10 Apr,24 Apr,8 May,22 May,5 Jun"},
		{"a year of months, every second", axisMonth, d("2025-07-01"), d("2026-06-01"), "Jul 25,Sep 25,Nov 25,Jan 26,Mar 26,May 26"},
		{"months from mid-month", axisMonth, d("2026-01-15"), d("2026-03-20"), "Feb 26,Mar 26"},
		{"percent", axisPercent, 0, 0.3, "0%,15%,30%"},
		{"thousands", axisNumber, 0, 250000, "0,100k,200k"},
		{"millions", axisNumber, 0, 3e6, "0,1M,2M,3M"},
	} {
		if got := strings.Join(labels(tc.kind, tc.min, tc.max), ","); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCleanSVG(t *testing.T) {
	in := `<?xml version="1.0"?>
<!-- Generated by SVGo and Plotinum VG -->
<svg width="10pt" height="10pt" viewBox="0 0 10 10"
	xmlns="http://www.w3.org/2000/svg"
	xmlns:xlink="http://www.w3.org/1999/xlink">
<text style="font-family:Liberation Sans;font-size:9px">a</text></svg>`
	got, err := cleanSVG(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `<svg role="img" width="10pt" height="10pt" viewBox="0 0 10 10">
<text textLength="5.0054" lengthAdjust="spacingAndGlyphs" style="font-family:'Liberation Sans',Arial,Helvetica,sans-serif;font-size:9px">a</text></svg>`
	if string(got) != want {
		t.Errorf("cleanSVG:\n%s\nwant\n%s", got, want)
	}
	if _, err := cleanSVG(`<svg><path d="M NaN 0"/></svg>`); err == nil {
		t.Error("NaN coordinate accepted")
	}
	if _, err := cleanSVG(`<svg><text x="1">NaN segment</text></svg>`); err != nil {
		t.Errorf("a label saying NaN refused: %v", err)
	}
	if _, err := cleanSVG(`not svg`); err == nil {
		t.Error("no svg element accepted")
	}
}

// A chart series over real dates keeps its day: unixDay is UTC midnight.
func TestUnixDay(t *testing.T) {
	if got := unixDay(time.Date(2026, 6, 10, 23, 59, 0, 0, time.UTC)); got != 1781049600 {
		t.Errorf("unixDay = %v, want 1781049600 (2026-06-10T00:00Z)", got)
	}
}
