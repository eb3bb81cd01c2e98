package report

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/font"
)

// The tests here read the geometry of drawn charts from their SVG: where
// each bar is, where each text is and how wide a browser may draw it.

// box is an axis-aligned rectangle in SVG user units (points), y growing
// downwards as in the browser.
type box struct{ X0, Y0, X1, Y1 float64 }

func (b box) String() string {
	return fmt.Sprintf("[%.1f,%.1f]x[%.1f,%.1f]", b.X0, b.X1, b.Y0, b.Y1)
}

// inside says whether b lies in o, give or take eps.
func (b box) inside(o box, eps float64) bool {
	return b.X0 >= o.X0-eps && b.X1 <= o.X1+eps && b.Y0 >= o.Y0-eps && b.Y1 <= o.Y1+eps
}

// svgSize is the width and height of the svg's viewBox.
func svgSize(t *testing.T, svg string) (w, h float64) {
	t.Helper()
	m := regexp.MustCompile(`viewBox="0 0 ([0-9.]+) ([0-9.]+)"`).FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no viewBox in %.80q", svg)
	}
	w, _ = strconv.ParseFloat(m[1], 64)
	h, _ = strconv.ParseFloat(m[2], 64)
	return w, h
}

// filledPaths returns the boxes of the filled paths of colour hex
// ("#4e79a7"), in browser coordinates. vgsvg draws every path in one
// group flipped vertically (y up), which this undoes.
func filledPaths(t *testing.T, svg, hex string) []box {
	t.Helper()
	_, h := svgSize(t, svg)
	re := regexp.MustCompile(`<path d="([^"]*)" style="fill:` + strings.ToUpper(hex) + `"`)
	// vgsvg writes M x,y, L x,y and A rx,ry rot large sweep x,y (circles
	// as two half arcs), and Z.
	cmd := regexp.MustCompile(`([MLA])([^MLAZ]*)`)
	var out []box
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		b := box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		add := func(x, y, r float64) {
			y = h - y
			b = box{math.Min(b.X0, x-r), math.Min(b.Y0, y-r), math.Max(b.X1, x+r), math.Max(b.Y1, y+r)}
		}
		for _, c := range cmd.FindAllStringSubmatch(m[1], -1) {
			var ns []float64
			for _, f := range strings.FieldsFunc(c[2], func(r rune) bool { return r == ',' || r == ' ' }) {
				v, err := strconv.ParseFloat(f, 64)
				if err != nil {
					t.Fatalf("path %q: %v", m[1], err)
				}
				ns = append(ns, v)
			}
			switch {
			case c[1] == "A" && len(ns) == 7:
				// an arc's end point, and its radius around it (a circle's
				// extent is its end points' centre plus the radius)
				add(ns[5], ns[6], 0)
				b.Y0, b.Y1 = math.Min(b.Y0, h-ns[6]-ns[0]), math.Max(b.Y1, h-ns[6]+ns[0])
			case len(ns) == 2:
				add(ns[0], ns[1], 0)
			default:
				t.Fatalf("path %q: command %q", m[1], c[0])
			}
		}
		out = append(out, b)
	}
	return out
}

// axisLine is one axis line of a chart, in browser coordinates.
type axisLine struct {
	Found        bool
	At, From, To float64 // x of a vertical line (y from..to), y of a horizontal one
}

// axisLines returns the vertical and the horizontal axis line: the longest
// vertical and horizontal strokes of the axis colour (a nominal axis, the
// category axis of a bar chart, has none).
func axisLines(t *testing.T, svg string) (v, hz axisLine) {
	t.Helper()
	_, h := svgSize(t, svg)
	re := regexp.MustCompile(`<path d="M([0-9.]+),([0-9.]+)L([0-9.]+),([0-9.]+)" style="fill:none;stroke:#9A9A9A`)
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		var c [4]float64
		for i := range c {
			c[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		// tick marks are 8 points long at most: an axis line is longer
		if l := math.Abs(c[3] - c[1]); c[0] == c[2] && l > 20 && l > v.To-v.From {
			v = axisLine{true, c[0], h - math.Max(c[1], c[3]), h - math.Min(c[1], c[3])}
		}
		if l := math.Abs(c[2] - c[0]); c[1] == c[3] && l > 20 && l > hz.To-hz.From {
			hz = axisLine{true, h - c[1], math.Min(c[0], c[2]), math.Max(c[0], c[2])}
		}
	}
	if !v.Found && !hz.Found {
		t.Fatalf("no axis line in the svg")
	}
	return v, hz
}

// plotArea is the data area of a chart as its axis lines bound it: right
// of the vertical axis and along it, above the horizontal one and along
// it; an axis without a line leaves the svg's edge (less the inset).
func plotArea(t *testing.T, svg string) box {
	t.Helper()
	w, h := svgSize(t, svg)
	v, hz := axisLines(t, svg)
	in := float64(inset)
	a := box{in, in, w - in, h - in}
	if v.Found {
		a.X0, a.Y0, a.Y1 = v.At, v.From, v.To
	}
	if hz.Found {
		a.Y1, a.X0, a.X1 = hz.At, hz.From, hz.To
	}
	return a
}

// drawnText is one <text> of a chart with the box a browser draws it in.
type drawnText struct {
	Text string
	Box  box
	// Rotated says the text sits in a rotated group (its box is then
	// the rotated box's bounds).
	Rotated bool
}

// browserWidthFactor is how much wider than Liberation Sans (whose
// metrics gonum/plot lays out with) a browser's fallback sans-serif may
// draw a text that does not pin its length: DejaVu Sans, the usual
// fallback on Linux, is about 15% wider on digits.
const browserWidthFactor = 1.2

// textBoxes returns every text of an SVG drawn by vgsvg with its box: its
// textLength when it has one (the browser then draws it exactly that
// wide), else its Liberation Sans width times browserWidthFactor. It
// follows the translate and rotate groups vgsvg nests texts in.
func textBoxes(t *testing.T, svg string) []drawnText {
	t.Helper()
	tok := regexp.MustCompile(`(?s)<g transform="([^"]*)">|</g>|<text ([^>]*)>([^<]*)</text>`)
	attr := func(s, name string) (float64, bool) {
		m := regexp.MustCompile(`(?:^|[\s;])` + name + `[=:]"?(-?[0-9.]+(?:e-?[0-9]+)?)`).FindStringSubmatch(s)
		if m == nil {
			return 0, false
		}
		v, err := strconv.ParseFloat(m[1], 64)
		return v, err == nil
	}
	face := func(size float64) font.Face {
		return font.DefaultCache.Lookup(font.Font{Typeface: "Liberation", Variant: sansVariant}, font.Length(size))
	}
	// affine transform a b c d e f: x' = a x + c y + e, y' = b x + d y + f.
	type affine [6]float64
	mul := func(m, n affine) affine { // m then n applied inside m: m * n
		return affine{
			m[0]*n[0] + m[2]*n[1], m[1]*n[0] + m[3]*n[1],
			m[0]*n[2] + m[2]*n[3], m[1]*n[2] + m[3]*n[3],
			m[0]*n[4] + m[2]*n[5] + m[4], m[1]*n[4] + m[3]*n[5] + m[5],
		}
	}
	parse := func(tr string) affine {
		m := affine{1, 0, 0, 1, 0, 0}
		for _, op := range regexp.MustCompile(`(\w+)\(([^)]*)\)`).FindAllStringSubmatch(tr, -1) {
			var a []float64
			for _, f := range strings.FieldsFunc(op[2], func(r rune) bool { return r == ',' || r == ' ' }) {
				v, _ := strconv.ParseFloat(f, 64)
				a = append(a, v)
			}
			for len(a) < 2 {
				a = append(a, 0)
			}
			var n affine
			switch op[1] {
			case "scale":
				n = affine{a[0], 0, 0, a[1], 0, 0}
			case "translate":
				n = affine{1, 0, 0, 1, a[0], a[1]}
			case "rotate":
				r := a[0] * math.Pi / 180
				n = affine{math.Cos(r), math.Sin(r), -math.Sin(r), math.Cos(r), 0, 0}
			default:
				t.Fatalf("transform %s", op[0])
			}
			m = mul(m, n)
		}
		return m
	}
	stack := []affine{{1, 0, 0, 1, 0, 0}}
	rotated := []bool{false}
	var out []drawnText
	for _, m := range tok.FindAllStringSubmatch(svg, -1) {
		switch {
		case strings.HasPrefix(m[0], "<g"):
			top := stack[len(stack)-1]
			stack = append(stack, mul(top, parse(m[1])))
			rotated = append(rotated, rotated[len(rotated)-1] || strings.Contains(m[1], "rotate"))
		case m[0] == "</g>":
			stack, rotated = stack[:len(stack)-1], rotated[:len(rotated)-1]
		default:
			x, _ := attr(m[2], "x")
			y, _ := attr(m[2], "y")
			size, ok := attr(m[2], "font-size")
			if !ok {
				t.Fatalf("text %q has no font-size", m[3])
			}
			text := unescapeSVG(m[3])
			f := face(size)
			w, ok := attr(m[2], "textLength")
			if !ok {
				w = f.Width(text).Points() * browserWidthFactor
			}
			ext := f.Extents()
			// The text's own frame: scale(1, -1) flips it upright; its
			// baseline is at y, ascent above (smaller y), descent below.
			self := mul(stack[len(stack)-1], parse(regexp.MustCompile(`transform="([^"]*)"`).FindStringSubmatch(m[2])[1]))
			b := box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
			for _, p := range [][2]float64{{x, y - ext.Ascent.Points()}, {x + w, y - ext.Ascent.Points()}, {x, y + ext.Descent.Points()}, {x + w, y + ext.Descent.Points()}} {
				px := self[0]*p[0] + self[2]*p[1] + self[4]
				py := self[1]*p[0] + self[3]*p[1] + self[5]
				b = box{math.Min(b.X0, px), math.Min(b.Y0, py), math.Max(b.X1, px), math.Max(b.Y1, py)}
			}
			out = append(out, drawnText{Text: text, Box: b, Rotated: rotated[len(rotated)-1]})
		}
	}
	return out
}

// unescapeSVG undoes html.EscapeString.
func unescapeSVG(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}

// checkTextsInside fails when a text of the chart may be drawn outside
// its svg.
func checkTextsInside(t *testing.T, name string, c chart) {
	t.Helper()
	w, h := svgSize(t, string(c.SVG))
	for _, tx := range textBoxes(t, string(c.SVG)) {
		if !tx.Box.inside(box{0, 0, w, h}, 0.01) {
			t.Errorf("%s: text %q at %v overflows the %gx%g svg", name, tx.Text, tx.Box, w, h)
		}
	}
}

// A bar much larger than the others, grouped bars, a negative value:
// every bar lies inside the plot area, between the axes and the svg's
// edges, and the largest bar is not cut.
func TestBarsInsidePlotArea(t *testing.T) {
	cats := []string{"store", "app", "email", "direct", "organic_search", "paid_search", "social", "push",
		"affiliate", "display", "call_center", "(unattributed)"}
	groups := func(n int, big, neg float64) []series {
		var gs []series
		for g := 0; g < n; g++ {
			sr := series{Name: fmt.Sprintf("model %d", g)}
			for c := range cats {
				v := float64(10 + 3*c + g)
				if c == 0 {
					v = big * float64(1+g) / float64(n)
				}
				if c == 3 && g == 1 {
					v = neg
				}
				sr.Y = append(sr.Y, v)
			}
			gs = append(gs, sr)
		}
		return gs
	}
	for _, tc := range []struct {
		name string
		spec barSpec
	}{
		{"grouped, one huge category", barSpec{Categories: cats, Groups: groups(9, 123456, 5), Width: fullWidth, Height: fullHeight}},
		{"grouped, half width", barSpec{Categories: cats, Groups: groups(9, 98765, 5)}},
		{"grouped with a negative bar", barSpec{Categories: cats, Groups: groups(3, 5000, -2500), Width: fullWidth, Height: fullHeight}},
		{"all negative", barSpec{Categories: cats[:3], Groups: []series{{Name: "x", Y: []float64{-5, -12000, -1}}}}},
		{"stacked", barSpec{Categories: []string{"orders", "web_events", "survey"}, Stacked: true, Groups: []series{
			{Name: "loaded", Y: []float64{40000, 90, 12}}, {Name: "quarantined", Y: []float64{300, 36, 0}}, {Name: "duplicate", Y: []float64{5000, 4, 1}}},
			Width: fullWidth, Height: 260}},
		{"stacked, negative layer", barSpec{Categories: []string{"a", "b"}, Stacked: true, Groups: []series{
			{Name: "x", Y: []float64{100, 5}}, {Name: "y", Y: []float64{-150, 5}}, {Name: "z", Y: []float64{80, 5}}}}},
		{"horizontal, one huge step", barSpec{Categories: []string{"Visit", "Product view", "Cart", "Checkout", "Purchase"},
			Groups: []series{{Name: "sessions", Y: []float64{98765, 40000, 700, 300, 20}}}, Horizontal: true, ValueLabel: "sessions"}},
		{"horizontal grouped, long names", barSpec{Categories: []string{"unlikely_to_buy_30d", "likely_to_buy_30d"},
			Groups: []series{{Name: "a", Y: []float64{12345, 200}}, {Name: "b", Y: []float64{3, 99999}}}, Horizontal: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := barChart(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			svg := string(c.SVG)
			w, h := svgSize(t, svg)
			area := plotArea(t, svg)
			var bars []box
			for i := range tc.spec.Groups {
				bars = append(bars, filledPaths(t, svg, paletteHex()[(i+tc.spec.ColorOffset)%12])...)
			}
			want := 0
			for _, g := range tc.spec.Groups {
				want += len(g.Y)
			}
			if len(bars) != want {
				t.Fatalf("%d bars drawn, want %d", len(bars), want)
			}
			for _, b := range bars {
				if !b.inside(area, 0.01) {
					t.Errorf("bar %v outside the plot area %v (svg %gx%g)", b, area, w, h)
				}
			}
			// Every value is drawn at its full length: the longest bar is
			// as long as the largest value says, relative to the others.
			var longest, longestV float64
			for i, b := range bars {
				l := b.Y1 - b.Y0
				if tc.spec.Horizontal {
					l = b.X1 - b.X0
				}
				g, k := drawnIndex(tc.spec, i)
				v := math.Abs(tc.spec.Groups[g].Y[k])
				if tc.spec.Stacked {
					continue
				}
				if l > longest {
					longest, longestV = l, v
				}
			}
			for i, b := range bars {
				if tc.spec.Stacked {
					break
				}
				l := b.Y1 - b.Y0
				if tc.spec.Horizontal {
					l = b.X1 - b.X0
				}
				g, k := drawnIndex(tc.spec, i)
				v := math.Abs(tc.spec.Groups[g].Y[k])
				if want := longest * v / longestV; math.Abs(l-want) > 0.05 {
					t.Errorf("bar %d of group %d is %.2f long, want %.2f (cut?)", k, g, l, want)
				}
			}
			// Bars of neighbouring categories do not overlap.
			for i := range bars {
				for j := range bars {
					if i == j || tc.spec.Stacked {
						continue
					}
					a, b := bars[i], bars[j]
					if a.X0 < b.X1-0.01 && b.X0 < a.X1-0.01 && a.Y0 < b.Y1-0.01 && b.Y0 < a.Y1-0.01 && (a.X1-a.X0) > 0.01 && (a.Y1-a.Y0) > 0.01 {
						t.Errorf("bars %v and %v overlap", a, b)
					}
				}
			}
			checkTextsInside(t, tc.name, c)
		})
	}
}

// drawnIndex is the group and category of the i-th bar drawn: groups in
// order, categories bottom-up for horizontal bars.
func drawnIndex(s barSpec, i int) (g, k int) {
	n := len(s.Categories)
	g, k = i/n, i%n
	if s.Horizontal {
		k = n - 1 - k
	}
	return g, k
}

// A y axis with 5-digit tick labels reserves the room its widest label
// takes, in any browser: the label ends left of the tick marks.
func TestAxisFitsTickLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    func() (chart, error)
		_    []string
	}{
		{"line, 5-digit ticks", func() (chart, error) {
			return lineChart(lineSpec{Series: []series{{Name: "x", X: []float64{0, 1, 2}, Y: []float64{-7000, 3000, 7000}}}, YLabel: "revenue"})
		}, nil},
		{"line, fractions", func() (chart, error) {
			return lineChart(lineSpec{Series: []series{{Name: "x", X: []float64{0, 1}, Y: []float64{0.00125, 0.0185}}}, YLabel: "rate"})
		}, nil},
		{"bar, thousands", func() (chart, error) {
			return barChart(barSpec{Categories: []string{"a", "b"}, Groups: []series{{Name: "x", Y: []float64{-4000, 9999}}}, ValueLabel: "rows"})
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.c()
			if err != nil {
				t.Fatal(err)
			}
			svg := string(c.SVG)
			v, _ := axisLines(t, svg)
			ax := v.At
			found := map[string]bool{}
			for _, tx := range textBoxes(t, svg) {
				if tx.Rotated || tx.Box.X1 > ax+0.01 {
					continue
				}
				found[tx.Text] = true
				// the tick marks are 8 points long, left of the axis line
				if tx.Box.X1 > ax-8+0.01 {
					t.Errorf("tick label %q ends at %.2f, over the tick marks (from %.2f)", tx.Text, tx.Box.X1, ax-8)
				}
				if tx.Box.X0 < -0.01 {
					t.Errorf("tick label %q starts at %.2f, left of the svg", tx.Text, tx.Box.X0)
				}
			}
			widest := ""
			for l := range found {
				if len(l) > len(widest) {
					widest = l
				}
			}
			if len(widest) < 5 {
				t.Errorf("widest tick label %q: the test wants 5 characters at least (labels %v)", widest, found)
			}
			checkTextsInside(t, tc.name, c)
		})
	}
}

// Every text carries the length gonum/plot laid it out with, so a browser
// without Liberation Sans squeezes it into the room reserved for it.
func TestTextLengthPinned(t *testing.T) {
	c, err := barChart(barSpec{Categories: []string{"organic_search", "a & b"}, Groups: []series{{Name: "x", Y: []float64{12000, 4000}}}, ValueLabel: "credited conversions"})
	if err != nil {
		t.Fatal(err)
	}
	texts := regexp.MustCompile(`(?s)<text ([^>]*)>([^<]*)</text>`).FindAllStringSubmatch(string(c.SVG), -1)
	if len(texts) < 5 {
		t.Fatalf("%d texts", len(texts))
	}
	for _, m := range texts {
		l := regexp.MustCompile(`textLength="([0-9.]+)"`).FindStringSubmatch(m[1])
		if l == nil || !strings.Contains(m[1], `lengthAdjust="spacingAndGlyphs"`) {
			t.Errorf("text %q: no textLength with lengthAdjust", m[2])
			continue
		}
		size := regexp.MustCompile(`font-size:([0-9.]+)px`).FindStringSubmatch(m[1])
		s, _ := strconv.ParseFloat(size[1], 64)
		f := font.DefaultCache.Lookup(font.Font{Typeface: "Liberation", Variant: sansVariant}, font.Length(s))
		want := f.Width(unescapeSVG(m[2])).Points()
		if got, _ := strconv.ParseFloat(l[1], 64); math.Abs(got-want) > 0.01 {
			t.Errorf("text %q: textLength %v, want %v", m[2], got, want)
		}
	}
}

// Heat maps and line charts keep every text inside the svg too, with long
// rotated column names.
func TestTextsInsideSVG(t *testing.T) {
	d := func(s string) float64 { return unixDay(day(s)) }
	nan := math.NaN()
	heat, err := heatMap(heatSpec{Rows: []string{"start", "organic_search", "(no touch)"}, Cols: []string{"organic_search", "paid_search", "call_center", "conversion", "no_conversion"},
		Z: [][]float64{{0.1, 0.2, nan, 0.3, 0.4}, {1, 0, 0, 0, 0}, {0.5, 0.5, 0, 0, 0}}, RowLabel: "from", ColLabel: "to"})
	if err != nil {
		t.Fatal(err)
	}
	checkTextsInside(t, "heat map", heat)
	line, err := lineChart(lineSpec{Series: []series{{Name: "x", X: []float64{d("2026-08-25"), d("2026-10-01"), d("2026-11-22")}, Y: []float64{4500, 8800, 120}}},
		X: axisDay, YLabel: "revenue", ZeroBased: true})
	if err != nil {
		t.Fatal(err)
	}
	checkTextsInside(t, "line", line)
}

// The x axis of a time chart starts at the first point and ends at the
// last: a survey that began in August does not show an empty spring.
func TestXAxisSpansTheData(t *testing.T) {
	month := func(s string) time.Time { return day(s) }
	var pts []kpiPoint
	for _, m := range []string{"2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"} {
		pts = append(pts, kpiPoint{Day: month(m), Value: 30, Num: 30, D: 100})
	}
	pt, err := kpiChart(kpiChartDef{KPI: "nps", Name: "nps", Caption: "NPS", YLabel: "NPS", Y: axisNumber}, pts, axisMonth,
		month("2025-12-01"), month("2026-11-01"))
	if err != nil {
		t.Fatal(err)
	}
	if pt.Figure == nil {
		t.Fatal("no figure")
	}
	svg := string(pt.Figure.Chart.SVG)
	var labels []string
	for _, tx := range textBoxes(t, svg) {
		labels = append(labels, tx.Text)
	}
	for _, bad := range []string{"Dec 25", "Jan 26", "Jun 26", "Jul 26"} {
		if contains(labels, bad) {
			t.Errorf("x axis labels %q: %s is before the data", labels, bad)
		}
	}
	for _, w := range []string{"Aug 26", "Nov 26"} {
		if !contains(labels, w) {
			t.Errorf("x axis labels %q: no %s", labels, w)
		}
	}
	// The line's markers sit at the ends of the x axis.
	v, _ := axisLines(t, svg)
	ax := v.At
	w, _ := svgSize(t, svg)
	marks := filledPaths(t, svg, paletteHex()[0])
	if len(marks) != len(pts) {
		t.Fatalf("%d markers, want %d", len(marks), len(pts))
	}
	first, last := marks[0], marks[len(marks)-1]
	xAxis := xAxisExtent(t, svg)
	if c := (first.X0 + first.X1) / 2; math.Abs(c-xAxis[0]) > 0.5 {
		t.Errorf("first point at x %.2f, x axis starts at %.2f (y axis at %.2f)", c, xAxis[0], ax)
	}
	if c := (last.X0 + last.X1) / 2; math.Abs(c-xAxis[1]) > 0.5 || xAxis[1] > w {
		t.Errorf("last point at x %.2f, x axis ends at %.2f", c, xAxis[1])
	}
}

// xAxisExtent is where the horizontal axis line starts and ends.
func xAxisExtent(t *testing.T, svg string) [2]float64 {
	t.Helper()
	re := regexp.MustCompile(`<path d="M([0-9.]+),([0-9.]+)L([0-9.]+),([0-9.]+)" style="fill:none;stroke:#9A9A9A`)
	var best [2]float64
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		if v[1] == v[3] && v[2]-v[0] > best[1]-best[0] {
			best = [2]float64{v[0], v[2]}
		}
	}
	return best
}
