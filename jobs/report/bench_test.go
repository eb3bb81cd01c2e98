package report

import (
	"context"
	"io"
	"math"
	"testing"
	"time"
)

// BenchmarkRender renders the hand-built warehouse's report (22+ charts)
// to io.Discard: queries, chart drawing and the template.
func BenchmarkRender(b *testing.B) {
	wh := openWH(b)
	plant(b, wh)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := render(ctx, wh.DB, wh.SQL, day(reportDay), time.Now(), io.Discard, options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLineChart draws a 90-day daily series.
func BenchmarkLineChart(b *testing.B) {
	sr := series{Name: "revenue"}
	start := day("2026-03-13")
	for i := range 90 {
		sr.X = append(sr.X, unixDay(start.AddDate(0, 0, i)))
		sr.Y = append(sr.Y, 5000+1000*math.Sin(float64(i)/5))
	}
	for b.Loop() {
		if _, err := lineChart(lineSpec{Series: []series{sr}, X: axisDay, ZeroBased: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupedBars draws 12 channels x 10 attribution models.
func BenchmarkGroupedBars(b *testing.B) {
	var cats []string
	for i := range 12 {
		cats = append(cats, "channel_"+string(rune('a'+i)))
	}
	var groups []series
	for _, m := range modelOrder() {
		sr := series{Name: m}
		for i := range cats {
			sr.Y = append(sr.Y, float64(10+i*len(m)))
		}
		groups = append(groups, sr)
	}
	for b.Loop() {
		if _, err := barChart(barSpec{Categories: cats, Groups: groups, Width: fullWidth, Height: fullHeight}); err != nil {
			b.Fatal(err)
		}
	}
}
