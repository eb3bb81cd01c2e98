package report

import (
	"math"
	"time"

	"gonum.org/v1/plot"
)

// axisKind says how an axis' tick labels read.
type axisKind int

const (
	axisNumber  axisKind = iota // 1.2M, 35k, 0.25
	axisPercent                 // fractions shown as 12%
	axisDay                     // Unix seconds of UTC midnights, "2 Mar"
	axisMonth                   // Unix seconds of month starts, "Mar 26"
)

// ticker returns the plot.Ticker for an axis kind.
func ticker(k axisKind) plot.Ticker {
	switch k {
	case axisPercent:
		return relabelTicks{format: func(v float64) string { return trimFloat(math.Round(v*1e6)/1e4) + "%" }}
	case axisDay:
		return dayTicks{}
	case axisMonth:
		return monthTicks{}
	default:
		return relabelTicks{format: fmtTick}
	}
}

// relabelTicks places ticks like plot.DefaultTicks and writes their labels
// with format (DefaultTicks writes 1e+06 and 0.30000000000000004).
type relabelTicks struct{ format func(float64) string }

// Ticks implements plot.Ticker.
func (r relabelTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = r.format(ts[i].Value)
		}
	}
	return ts
}

// unixDay is the Unix time of a UTC day, the x coordinate of daily series.
func unixDay(t time.Time) float64 { return float64(dayOf(t).Unix()) }

// dayTicks labels days ("2 Mar") every 1, 2, 7 or 14 days, whichever
// gives at most eight labels, with unlabelled daily ticks when they fit.
type dayTicks struct{}

// Ticks implements plot.Ticker.
func (dayTicks) Ticks(min, max float64) []plot.Tick {
	const day = 86400
	first := math.Ceil(min/day) * day
	days := int((max-first)/day) + 1
	step := 14
	for _, s := range []int{1, 2, 7, 14} {
		if days/s < 8 {
			step = s
			break
		}
	}
	if days/step >= 8 {
		step = (days + 7) / 8
	}
	var ts []plot.Tick
	for i := 0; i < days; i++ {
		v := first + float64(i)*day
		if i%step == 0 {
			ts = append(ts, plot.Tick{Value: v, Label: time.Unix(int64(v), 0).UTC().Format("2 Jan")})
		} else if days <= 31 {
			ts = append(ts, plot.Tick{Value: v})
		}
	}
	return ts
}

// monthTicks labels month starts ("Mar 26"), every month, or every second
// or third one when there are many.
type monthTicks struct{}

// Ticks implements plot.Ticker.
func (monthTicks) Ticks(min, max float64) []plot.Tick {
	start := monthOf(time.Unix(int64(math.Floor(min)), 0).UTC())
	if float64(start.Unix()) < min {
		start = start.AddDate(0, 1, 0)
	}
	var months []time.Time
	for m := start; float64(m.Unix()) <= max; m = m.AddDate(0, 1, 0) {
		months = append(months, m)
	}
	step := 1
	for len(months)/step > 8 {
		step++
	}
	ts := make([]plot.Tick, 0, len(months))
	for i, m := range months {
		t := plot.Tick{Value: float64(m.Unix())}
		if i%step == 0 {
			t.Label = m.Format("Jan 06")
		}
		ts = append(ts, t)
	}
	return ts
}
