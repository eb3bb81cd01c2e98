package report

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// constError is an error that can be a constant.
type constError string

func (e constError) Error() string { return string(e) }

// errNoData is what a chart builder returns when there is nothing to draw;
// the section then says "no data yet" instead of showing an empty frame.
const errNoData constError = "no data to draw"

// chart is one drawn chart: inline SVG, and its legend, which the page
// draws in HTML under the chart (a legend inside the plot area would hide
// data, and HTML text reflows and prints better).
type chart struct {
	SVG    template.HTML
	Legend []legendEntry
}

// legendEntry names one series; Class is the CSS class (c0..c11) whose
// swatch has the series' colour.
type legendEntry struct {
	Name  string
	Class string
}

// Chart sizes in points; the page scales SVGs to the column width.
const (
	halfWidth  vg.Length = 360
	halfHeight vg.Length = 210
	fullWidth  vg.Length = 720
	fullHeight vg.Length = 300
)

// vgLen converts a count of points to a length.
func vgLen(points int) vg.Length { return vg.Length(points) }

// paletteHex is the series palette: Tableau 10 plus two quiet blues, a
// restrained set that stays distinct in print. style.go mirrors it as the
// CSS classes c0..c11.
func paletteHex() [12]string {
	return [12]string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
		"#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#2f4b7c", "#a0cbe8"}
}

// hexColor parses "#rrggbb".
func hexColor(s string) color.RGBA {
	var r, g, b uint8
	_, _ = fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b)
	return color.RGBA{R: r, G: g, B: b, A: 255}
}

// seriesColor is the i-th palette colour (cycling).
func seriesColor(i int) color.RGBA {
	p := paletteHex()
	return hexColor(p[i%len(p)])
}

// seriesClass is the CSS class of the i-th palette colour.
func seriesClass(i int) string { return fmt.Sprintf("c%d", i%len(paletteHex())) }

// Ink colours for axes and text.
func inkColor() color.RGBA   { return hexColor("#3b3b3b") }
func gridColor() color.RGBA  { return hexColor("#e4e4e4") }
func faintColor() color.RGBA { return hexColor("#9a9a9a") }

// sansVariant selects Liberation Sans in gonum/plot's font collection
// (its default is the serif face).
const sansVariant = "Sans"

// newPlot returns a plot with the house look: no title (the figure caption
// says what it is), quiet axes, light horizontal grid lines.
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Color = faintColor()
		a.Label.TextStyle.Color = inkColor()
		a.Label.TextStyle.Font.Size = 10
		a.Label.TextStyle.Font.Variant = sansVariant
		a.Tick.Color = faintColor()
		a.Tick.Label.Color = inkColor()
		a.Tick.Label.Font.Size = 9
		a.Tick.Label.Font.Variant = sansVariant
	}
	p.BackgroundColor = color.White
	return p
}

// horizontalGrid adds light grid lines at the major ticks of the y axis.
func horizontalGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	g.Horizontal.Color = gridColor()
	g.Horizontal.Width = 0.5
	p.Add(g)
}

// inset is the blank margin around a chart: text laid out flush with the
// canvas edge (the y axis label, the last x tick label) would otherwise
// touch it, and a browser font's ascent may be a little taller.
const inset vg.Length = 3

// plotCanvas is the area a plot draws in on a w x h canvas: all of it
// but the inset. With a nil canvas it only measures (dataArea).
func plotCanvas(c vg.Canvas, w, h vg.Length) draw.Canvas {
	return draw.Canvas{Canvas: c, Rectangle: vg.Rectangle{
		Min: vg.Point{X: inset, Y: inset}, Max: vg.Point{X: w - inset, Y: h - inset}}}
}

// dataArea is the rectangle p draws its data in on a w x h canvas, once
// the axes took the room their labels need: what bar widths and label
// rotation are derived from. p's axis ranges and ticks must be set.
func dataArea(p *plot.Plot, w, h vg.Length) vg.Rectangle {
	return p.DataCanvas(plotCanvas(nil, w, h)).Rectangle
}

// svgNamespace matches the namespace declarations vgsvg writes: inline
// SVG in HTML needs none, and the report must not name any URL.
func svgNamespace() *regexp.Regexp { return regexp.MustCompile(`\s+xmlns(:xlink)?="[^"]*"`) }

// drawSVG renders p to an inline <svg> element of w x h points. gonum/plot
// panics on some degenerate inputs; that becomes an error, not a crash.
func drawSVG(p *plot.Plot, w, h vg.Length) (out template.HTML, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("draw chart: %v", r)
		}
	}()
	c := vgsvg.New(w, h)
	p.Draw(plotCanvas(c, w, h))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", fmt.Errorf("write svg: %w", err)
	}
	return cleanSVG(b.String())
}

// cleanSVG turns vgsvg's standalone document into an inline element: no
// XML prolog or comment, no namespace URLs, a font stack that falls back
// to metric-compatible system fonts (the Go side measured text with
// Liberation Sans), and an ARIA role. It refuses output holding NaN, which
// browsers would silently drop.
func cleanSVG(s string) (template.HTML, error) {
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("svg: no <svg> element in output")
	}
	s = svgNamespace().ReplaceAllString(s[i:], "")
	s = strings.Replace(s, "<svg", `<svg role="img"`, 1)
	s = pinTextLength(s)
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	// Labels may say anything ("NaN" is a fine segment name); coordinates may not.
	if strings.Contains(regexp.MustCompile(`(?s)<text[^>]*>[^<]*</text>`).ReplaceAllString(s, ""), "NaN") {
		return "", fmt.Errorf("svg: a coordinate is NaN")
	}
	// vgsvg escapes every text it draws (html.EscapeString), and the rest is
	// numbers and fixed markup: safe to inline.
	return template.HTML(s), nil
}

// svgText matches one <text> element as vgsvg writes it: its attributes
// (the style among them) and its escaped content.
var svgText = regexp.MustCompile(`(?s)<text ([^>]*)>([^<]*)</text>`)

// svgFontSize matches the font size in a text's style.
var svgFontSize = regexp.MustCompile(`font-size:([0-9.]+)px`)

// pinTextLength gives every text the length gonum/plot laid it out with
// (textLength, squeezing or stretching glyphs to fit): the axes reserve
// room for their labels as Liberation Sans measures them, and a browser
// without that font (DejaVu Sans, the usual Linux fallback, is some 15%
// wider) would otherwise draw a y tick label over the tick marks ("4000"
// read "400C") or past the edge of the chart. Every text of a chart is
// Liberation Sans (newPlot, heatMap); a text whose size cannot be read is
// left alone.
func pinTextLength(s string) string {
	return svgText.ReplaceAllStringFunc(s, func(el string) string {
		m := svgText.FindStringSubmatch(el)
		sz := svgFontSize.FindStringSubmatch(m[1])
		if sz == nil || strings.Contains(m[1], "textLength=") {
			return el
		}
		size, err := strconv.ParseFloat(sz[1], 64)
		if err != nil || size <= 0 {
			return el
		}
		face := font.DefaultCache.Lookup(font.Font{Typeface: "Liberation", Variant: sansVariant}, font.Length(size))
		w := face.Width(html.UnescapeString(m[2])).Points()
		if !finite(w) || w <= 0 {
			return el
		}
		return fmt.Sprintf(`<text textLength="%.5g" lengthAdjust="spacingAndGlyphs" %s>%s</text>`, w, m[1], m[2])
	})
}

// finite reports whether v is a drawable number.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
