package report

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// series is one named sequence of values: (X[i], Y[i]) for line charts,
// Y[i] for category i in bar charts (X unused).
type series struct {
	Name string
	X, Y []float64
}

// lineSpec describes a line chart.
type lineSpec struct {
	Series         []series
	X, Y           axisKind
	XLabel, YLabel string
	// Diagonal draws the dashed y = x reference of ROC, gains and
	// calibration charts, over [0, 1].
	Diagonal bool
	// ZeroBased starts the y axis at 0 when every value is positive, so a
	// small wobble does not look like a collapse.
	ZeroBased bool
	// Unit squares the axes on [0, 1] (ROC, gains, calibration).
	Unit          bool
	Width, Height vg.Length
}

// lineChart draws one line per series. Points with a NaN or infinite
// coordinate are left out (a NULL KPI is a gap, not a zero); a series with
// few points also gets markers, so a single month is still visible. It
// returns errNoData when no series has a drawable point.
func lineChart(s lineSpec) (chart, error) {
	p := newPlot(s.XLabel, s.YLabel)
	p.X.Tick.Marker, p.Y.Tick.Marker = ticker(s.X), ticker(s.Y)
	horizontalGrid(p)
	var out chart
	drawn := 0
	for i, sr := range s.Series {
		if len(sr.X) != len(sr.Y) {
			return chart{}, fmt.Errorf("line chart %q: %d x values for %d y values", sr.Name, len(sr.X), len(sr.Y))
		}
		var xys plotter.XYs
		for k := range sr.X {
			if finite(sr.X[k]) && finite(sr.Y[k]) {
				xys = append(xys, plotter.XY{X: sr.X[k], Y: sr.Y[k]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		drawn++
		col := seriesColor(i)
		if len(xys) > 1 {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return chart{}, fmt.Errorf("line chart %q: %w", sr.Name, err)
			}
			l.Color, l.Width = col, vg.Points(1.6)
			p.Add(l)
		}
		if len(xys) <= 24 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return chart{}, fmt.Errorf("line chart %q: %w", sr.Name, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
			p.Add(sc)
		}
		out.Legend = append(out.Legend, legendEntry{Name: sr.Name, Class: seriesClass(i)})
	}
	if drawn == 0 {
		return chart{}, errNoData
	}
	if s.Diagonal {
		d, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return chart{}, err
		}
		d.Color, d.Width, d.Dashes = faintColor(), vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(d)
	}
	if s.Unit {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	} else {
		zero := s.ZeroBased && p.Y.Min >= 0
		if zero {
			p.Y.Min = 0
		}
		// Head room, so markers at the extremes are not cut by the frame.
		if span := p.Y.Max - p.Y.Min; span > 0 {
			p.Y.Max += 0.06 * span
			if !zero {
				p.Y.Min -= 0.06 * span
			}
		}
	}
	// The x axis spans the data, first point to last (gonum/plot's range
	// of the points): a series that starts late starts at the left edge,
	// not after months of empty axis.
	//
	// One x value: widen the axis so the point sits in the middle of a
	// readable range instead of on a one-second axis.
	if p.X.Min == p.X.Max {
		pad := 0.5
		switch s.X {
		case axisDay:
			pad = 86400
		case axisMonth:
			pad = 15 * 86400
		}
		p.X.Min, p.X.Max = p.X.Min-pad, p.X.Max+pad
	}
	if len(out.Legend) == 1 && len(s.Series) == 1 {
		out.Legend = nil // the caption names a lone series
	}
	w, h := s.Width, s.Height
	if w == 0 {
		w, h = halfWidth, halfHeight
	}
	svg, err := drawSVG(p, w, h)
	if err != nil {
		return chart{}, err
	}
	out.SVG = svg
	return out, nil
}
