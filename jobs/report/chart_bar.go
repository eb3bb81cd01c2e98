package report

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// barSpec describes a bar chart over categories: one bar per category and
// group side by side (grouped), or the groups piled up (stacked).
type barSpec struct {
	Categories []string
	// Groups hold one Y value per category each; X is unused.
	Groups     []series
	Stacked    bool
	Horizontal bool
	Value      axisKind
	ValueLabel string
	// CategoryLabel names the category axis.
	CategoryLabel string
	// ColorOffset shifts the palette, so a chart of some of another
	// chart's groups keeps their colours.
	ColorOffset   int
	Width, Height vg.Length
}

// barChart draws a grouped or stacked bar chart. A NaN or infinite value
// draws as an empty bar (nothing to stack); it returns errNoData when there
// is no category, no group or no value but zero.
//
// No bar is ever cut: the value axis spans every bar's extent (the largest
// value, the tallest stack, negative values and stacks), and bar widths
// come from the data area the axes leave, not from an estimate, so the
// bars of the first and last categories stay inside the frame.
func barChart(s barSpec) (chart, error) {
	if len(s.Categories) == 0 || len(s.Groups) == 0 {
		return chart{}, errNoData
	}
	for _, g := range s.Groups {
		if len(g.Y) != len(s.Categories) {
			return chart{}, fmt.Errorf("bar chart %q: %d values for %d categories", g.Name, len(g.Y), len(s.Categories))
		}
	}
	lo, hi := barExtent(s)
	if lo == 0 && hi == 0 {
		return chart{}, errNoData // only zeros (or NaN): nothing to see
	}
	if s.Horizontal {
		s = reversed(s) // the y axis grows upwards; categories should read top-down
	}
	w, h := s.Width, s.Height
	if w == 0 {
		w, h = halfWidth, halfHeight
	}
	xLabel, yLabel := s.CategoryLabel, s.ValueLabel
	if s.Horizontal {
		xLabel, yLabel = yLabel, xLabel
	}
	p := newPlot(xLabel, yLabel)
	catAxis, valAxis := &p.X, &p.Y
	if s.Horizontal {
		catAxis, valAxis = &p.Y, &p.X
	}
	valAxis.Tick.Marker = ticker(s.Value)
	if !s.Horizontal {
		horizontalGrid(p)
	}

	var out chart
	var below *plotter.BarChart
	var bars []*plotter.BarChart
	n := len(s.Groups)
	for i, g := range s.Groups {
		vals := make(plotter.Values, len(g.Y))
		for k, v := range g.Y {
			if finite(v) {
				vals[k] = v
			}
		}
		b, err := plotter.NewBarChart(vals, 1) // the width is set below, from the data area
		if err != nil {
			return chart{}, fmt.Errorf("bar chart %q: %w", g.Name, err)
		}
		b.Color = seriesColor(i + s.ColorOffset)
		b.LineStyle.Width = 0
		b.Horizontal = s.Horizontal
		if s.Stacked {
			if below != nil {
				b.StackOn(below)
			}
			below = b
		}
		p.Add(b)
		bars = append(bars, b)
		out.Legend = append(out.Legend, legendEntry{Name: g.Name, Class: seriesClass(i + s.ColorOffset)})
	}
	if n == 1 {
		out.Legend = nil // the caption names a lone series
	}
	// Head room beyond the longest bar on each side that has bars, so the
	// largest one does not touch the frame; zero stays on the axis.
	pad := 0.04 * (hi - lo)
	valAxis.Min, valAxis.Max = lo, hi
	if lo < 0 {
		valAxis.Min = lo - pad
	}
	if hi > 0 {
		valAxis.Max = hi + pad
	}
	// One slot per category, the bars of a category inside its slot.
	catAxis.Min, catAxis.Max = -0.5, float64(len(s.Categories))-0.5
	if s.Horizontal {
		p.NominalY(s.Categories...)
	} else {
		p.NominalX(s.Categories...)
	}
	slot := func() vg.Length {
		r := dataArea(p, w, h)
		span := r.Size().X
		if s.Horizontal {
			span = r.Size().Y
		}
		return span / vg.Length(len(s.Categories))
	}
	if !s.Horizontal {
		rotateIfCrowded(catAxis, s.Categories, slot())
	}
	sl := slot()
	if sl <= 0 {
		return chart{}, fmt.Errorf("bar chart: no room for %d categories in %vx%v", len(s.Categories), w, h)
	}
	bw := sl * 0.8 / vg.Length(n)
	if s.Stacked {
		bw = sl * 0.6
	}
	for i, b := range bars {
		b.Width = bw
		if !s.Stacked {
			b.Offset = (vg.Length(i) - vg.Length(n-1)/2) * bw
			if s.Horizontal {
				b.Offset = -b.Offset // the first group on top, as in the legend
			}
		}
	}
	svg, err := drawSVG(p, w, h)
	if err != nil {
		return chart{}, err
	}
	out.SVG = svg
	return out, nil
}

// barExtent is the range the bars of s cover, zero included: each value
// of grouped bars, and every partial sum of a stack (a negative layer
// draws down from the layers below it).
func barExtent(s barSpec) (lo, hi float64) {
	for k := range s.Categories {
		sum := 0.0
		for _, g := range s.Groups {
			v := g.Y[k]
			if !finite(v) {
				continue
			}
			if s.Stacked {
				sum += v
				v = sum
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}

// reversed returns s with its categories (and every group's values) in
// reverse order, leaving s untouched.
func reversed(s barSpec) barSpec {
	n := len(s.Categories)
	cats := make([]string, n)
	for i, c := range s.Categories {
		cats[n-1-i] = c
	}
	groups := make([]series, len(s.Groups))
	for g, sr := range s.Groups {
		ys := make([]float64, n)
		for i, v := range sr.Y {
			ys[n-1-i] = v
		}
		groups[g] = series{Name: sr.Name, Y: ys}
	}
	s.Categories, s.Groups = cats, groups
	return s
}

// rotateIfCrowded tilts category labels by 30 degrees when the longest one
// is wider than its slot, so neighbours do not overprint.
func rotateIfCrowded(a *plot.Axis, labels []string, slot vg.Length) {
	widest := vg.Length(0)
	for _, l := range labels {
		widest = max(widest, a.Tick.Label.Width(l))
	}
	if widest > slot*0.95 {
		a.Tick.Label.Rotation = math.Pi / 6
		a.Tick.Label.XAlign = draw.XRight
		a.Tick.Label.YAlign = draw.YCenter
	}
}
