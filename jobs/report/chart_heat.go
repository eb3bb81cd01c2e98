package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// heatSpec describes a matrix drawn as coloured cells with their values
// written in them: Z[r][c] for row r (top to bottom) and column c, NaN for
// an empty cell. Values are fractions in [0, 1].
type heatSpec struct {
	Rows, Cols         []string
	Z                  [][]float64
	RowLabel, ColLabel string
	Width, Height      vg.Length
}

// heatGrid adapts a heatSpec to plotter.GridXYZ, with row 0 at the top.
type heatGrid struct{ s *heatSpec }

func (g heatGrid) Dims() (c, r int)     { return len(g.s.Cols), len(g.s.Rows) }
func (g heatGrid) X(c int) float64      { return float64(c) }
func (g heatGrid) Y(r int) float64      { return float64(r) }
func (g heatGrid) Z(c, r int) float64   { return g.s.Z[len(g.s.Rows)-1-r][c] }
func (g heatGrid) rowName(r int) string { return g.s.Rows[len(g.s.Rows)-1-r] }

// blues is a sequential single-hue palette, light (low) to dark (high).
type blues struct{}

// Colors implements palette.Palette.
func (blues) Colors() []color.Color {
	var out []color.Color
	for _, h := range []string{"#f4f8fc", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"} {
		out = append(out, hexColor(h))
	}
	return out
}

// darkHeat is the first palette step dark enough for white text.
const darkHeat = 5

// heatIndex is the palette step of a fraction in [0, 1], rounded the way
// plotter.HeatMap picks its colour, so table shading matches the chart.
func heatIndex(v float64) int {
	n := len((blues{}).Colors())
	return min(n-1, max(0, int(v*float64(n-1)+0.5)))
}

// heatMap draws the matrix with every non-empty cell labelled in percent
// (white on dark cells). It returns errNoData when the matrix has no
// finite value.
func heatMap(s heatSpec) (chart, error) {
	if len(s.Rows) == 0 || len(s.Cols) == 0 {
		return chart{}, errNoData
	}
	if len(s.Z) != len(s.Rows) {
		return chart{}, fmt.Errorf("heat map: %d rows of values for %d row names", len(s.Z), len(s.Rows))
	}
	has := false
	for r, row := range s.Z {
		if len(row) != len(s.Cols) {
			return chart{}, fmt.Errorf("heat map: row %q has %d values for %d columns", s.Rows[r], len(row), len(s.Cols))
		}
		for _, v := range row {
			has = has || finite(v)
		}
	}
	if !has {
		return chart{}, errNoData
	}
	g := heatGrid{s: &s}
	hm := plotter.NewHeatMap(g, blues{})
	hm.Min, hm.Max = 0, 1
	hm.NaN = hexColor("#fafafa")
	hm.Underflow, hm.Overflow = hexColor("#f4f8fc"), hexColor("#08306b")

	p := newPlot(s.ColLabel, s.RowLabel)
	p.Add(hm)

	var xys plotter.XYs
	var labels []string
	nc, nr := g.Dims()
	for r := 0; r < nr; r++ {
		for c := 0; c < nc; c++ {
			if v := g.Z(c, r); finite(v) {
				xys = append(xys, plotter.XY{X: float64(c), Y: float64(r)})
				labels = append(labels, fmt.Sprintf("%.0f%%", math.Round(100*v)))
			}
		}
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return chart{}, fmt.Errorf("heat map labels: %w", err)
	}
	k := 0
	for r := 0; r < nr; r++ {
		for c := 0; c < nc; c++ {
			if v := g.Z(c, r); finite(v) {
				st := lab.TextStyle[k]
				st.Font.Size = 8
				st.Font.Variant = sansVariant
				st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
				st.Color = inkColor()
				if heatIndex(v) >= darkHeat {
					st.Color = color.White
				}
				lab.TextStyle[k] = st
				k++
			}
		}
	}
	p.Add(lab)

	xt := make([]plot.Tick, nc)
	for c := range xt {
		xt[c] = plot.Tick{Value: float64(c), Label: s.Cols[c]}
	}
	yt := make([]plot.Tick, nr)
	for r := range yt {
		yt[r] = plot.Tick{Value: float64(r), Label: g.rowName(r)}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Tick.Length, p.Y.Tick.Length = 0, 0
	p.X.Width, p.Y.Width = 0, 0
	p.X.Min, p.X.Max = -0.5, float64(nc)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(nr)-0.5
	w, h := s.Width, s.Height
	if w == 0 {
		w, h = fullWidth, fullHeight
	}
	// Tilt the column names when the widest is wider than its column, as
	// the axes leave it.
	rotateIfCrowded(&p.X, s.Cols, dataArea(p, w, h).Size().X/vg.Length(nc))
	svg, err := drawSVG(p, w, h)
	if err != nil {
		return chart{}, err
	}
	return chart{SVG: svg}, nil
}
