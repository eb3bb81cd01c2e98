package churn

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestTopReasons(t *testing.T) {
	features := []string{"recency", "orders", "plan=basic", "plan=premium", "tickets"}
	values := []float64{142, 3, 1, 0, math.NaN()}
	tests := []struct {
		name    string
		contrib []float64
		k       int
		want    []string
	}{
		{"largest first, non-positive skipped", []float64{0.9, -0.4, 0.3, 0, 0.5}, 3,
			[]string{"recency = 142", "tickets is missing", "plan is basic"}},
		{"k caps", []float64{0.9, 0.1, 0.3, 0.2, 0.5}, 2, []string{"recency = 142", "tickets is missing"}},
		{"fewer positive than k", []float64{-1, -2, 0, 0.01, -0.5}, 3, []string{"plan is not premium"}},
		{"none positive", []float64{-1, -2, 0, 0, -0.5}, 3, nil},
		{"ties keep feature order", []float64{0.5, 0.5, 0, 0, 0}, 3, []string{"recency = 142", "orders = 3"}},
		{"NaN contribution skipped", []float64{math.NaN(), 0.2, 0, 0, 0}, 3, []string{"orders = 3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := TopReasons(tc.contrib, features, values, tc.k, nil)
			var texts []string
			for _, r := range got {
				texts = append(texts, r.Text)
				if !(r.Contribution > 0) {
					t.Errorf("reason %+v has contribution <= 0", r)
				}
			}
			if strings.Join(texts, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", texts, tc.want)
			}
		})
	}
	custom := func(f string, v float64) string {
		if f == "recency" {
			return fmt.Sprintf("no purchase for %.0f days", v)
		}
		return DescribeValue(f, v)
	}
	got := TopReasons([]float64{0.9, 0, 0, 0, 0.5}, features, values, 3, custom)
	if len(got) != 2 || got[0].Text != "no purchase for 142 days" || got[1].Feature != "tickets" || !got[1].Missing || got[1].Value != 0 {
		t.Errorf("custom describer: %+v", got)
	}
}

func TestDescribeValue(t *testing.T) {
	tests := []struct {
		feature string
		value   float64
		want    string
	}{
		{"days_since_last_order", 142, "days_since_last_order = 142"},
		{"avg_basket", 37.456789, "avg_basket = 37.46"},
		{"share_returns", 0.0012345, "share_returns = 0.001234"},
		{"big", 12345678, "big = 12345678"},
		{"plan=basic", 1, "plan is basic"},
		{"plan=basic", 0, "plan is not basic"},
		{"email", math.NaN(), "email is missing"},
		{"city_frequency", 0.25, "city_frequency = 0.25"},
	}
	for _, tc := range tests {
		if got := DescribeValue(tc.feature, tc.value); got != tc.want {
			t.Errorf("DescribeValue(%q, %v) = %q, want %q", tc.feature, tc.value, got, tc.want)
		}
	}
}

func TestBands(t *testing.T) {
	b := Bands{Medium: 0.2, High: 0.5}
	for p, want := range map[float64]string{0: RiskLow, 0.1999: RiskLow, 0.2: RiskMedium, 0.4999: RiskMedium, 0.5: RiskHigh, 1: RiskHigh} {
		if got := b.Band(p); got != want {
			t.Errorf("Band(%v) = %s, want %s", p, got, want)
		}
	}
	for _, bad := range []Bands{{0, 0.5}, {0.6, 0.5}, {0.2, 1.5}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestScoreAlignsColumnsAndBands(t *testing.T) {
	ds := tinyDataset(t)
	ctx := context.Background()
	m, err := DefaultLogReg().Fit(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	opt := ScoreOptions{Bands: Bands{Medium: 0.3, High: 0.5}}
	scores, err := m.Score(ctx, ds.X, ds.IDs, opt)
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Predict(ctx, ds.X)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Contributions(ctx, ds.X)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range scores {
		if s.ID != ds.IDs[i] || s.Probability != p[i] || s.Band != opt.Bands.Band(p[i]) || len(s.Reasons) > 3 {
			t.Fatalf("row %d: %+v", i, s)
		}
		// The first reason is the largest positive contribution of the row.
		best, arg := 0.0, -1
		for j, v := range c.Row(i) {
			if v > best {
				best, arg = v, j
			}
		}
		if arg >= 0 && (len(s.Reasons) == 0 || s.Reasons[0].Feature != ds.X.Names[arg]) {
			t.Fatalf("row %d: first reason %+v, largest contribution %s", i, s.Reasons, ds.X.Names[arg])
		}
	}

	// The warehouse may send columns in another order, with extras.
	names := append([]string{"extra"}, ds.X.Names...)
	for i, j := 1, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	shuffled := NewMatrix(names, ds.X.Rows)
	for i := range ds.X.Rows {
		shuffled.Set(i, 0, 7)
		for k, n := range names[1:] {
			shuffled.Set(i, k+1, ds.X.At(i, ds.X.Index(n)))
		}
	}
	again, err := m.Score(ctx, shuffled, ds.IDs, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range scores {
		if again[i].Probability != scores[i].Probability || again[i].Reasons[0].Text != scores[i].Reasons[0].Text {
			t.Fatalf("row %d scored differently with shuffled columns", i)
		}
	}
	missing := NewMatrix(ds.X.Names[1:], 2)
	if _, err := m.Score(ctx, missing, nil, opt); err == nil || !strings.Contains(err.Error(), ds.X.Names[0]) {
		t.Errorf("missing feature: %v", err)
	}
	none, err := m.Score(ctx, ds.X, nil, ScoreOptions{TopK: -1})
	if err != nil || none[0].Reasons != nil || none[0].Band == "" {
		t.Errorf("TopK -1: %+v, %v", none[0], err)
	}
	// Reasons only for risky rows: those rows get exactly the reasons of a
	// full run, the others none.
	risky, err := m.Score(ctx, ds.X, ds.IDs, ScoreOptions{Bands: opt.Bands, ReasonsFrom: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	explained := 0
	for i, s := range risky {
		if s.Probability < 0.5 {
			if s.Reasons != nil {
				t.Fatalf("row %d (p=%v) got reasons", i, s.Probability)
			}
			continue
		}
		explained++
		if fmt.Sprint(s.Reasons) != fmt.Sprint(scores[i].Reasons) {
			t.Fatalf("row %d: reasons %v, full run %v", i, s.Reasons, scores[i].Reasons)
		}
	}
	if explained == 0 || explained == len(risky) {
		t.Errorf("%d of %d rows explained; the threshold should split them", explained, len(risky))
	}
}
