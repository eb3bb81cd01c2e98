package clv

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func cdnowModel(t *testing.T) *Model {
	t.Helper()
	full, _ := publishedBGNBD()
	return &Model{
		TimeUnit:   Weeks,
		BGNBD:      BGNBDFit{Params: full, N: 2357},
		GammaGamma: GammaGammaFit{Params: GammaGammaParams{P: 6.25, Q: 3.74, V: 15.44}, N: 946},
	}
}

func TestScoreComposition(t *testing.T) {
	m := cdnowModel(t)
	c := Customer{ID: "1", X: 2, TX: 30.43, T: 38.86, MeanValue: 22.35}
	bg, gg := m.BGNBD.Params, m.GammaGamma.Params
	spend, _ := gg.ConditionalExpectedSpend(c)
	alive, _ := bg.ProbAlive(c)
	y := func(days float64) float64 {
		v, err := bg.ConditionalExpectedPurchases(c, days/7)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	score := func(opts ScoreOptions) Score {
		s, err := m.Score(t.Context(), []Customer{c}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return s[0]
	}

	s := score(ScoreOptions{HorizonDays: 365, PeriodDays: 365})
	if s.ID != "1" || s.ProbAlive != alive || s.ExpectedSpend != spend ||
		s.Purchases30 != y(30) || s.Purchases90 != y(90) || s.Purchases365 != y(365) {
		t.Errorf("score %+v does not carry the model's predictions", s)
	}
	tests := []struct {
		name string
		opts ScoreOptions
		want float64
	}{
		// One undiscounted period: E[Y(H)]·E[M].
		{"one period", ScoreOptions{HorizonDays: 365, PeriodDays: 365}, y(365) * spend},
		// Undiscounted monthly periods telescope to the same total.
		{"monthly undiscounted", ScoreOptions{HorizonDays: 365, PeriodDays: 30}, y(365) * spend},
		// One period discounted from its end: /(1.1)^(730/365).
		{"two years discounted", ScoreOptions{HorizonDays: 730, PeriodDays: 730, AnnualDiscountRate: 0.1}, y(730) * spend / 1.21},
		// Two 45-day periods at 10%: by hand.
		{"two periods", ScoreOptions{HorizonDays: 90, PeriodDays: 45, AnnualDiscountRate: 0.1},
			spend * (y(45)/math.Pow(1.1, 45.0/365) + (y(90)-y(45))/math.Pow(1.1, 90.0/365))},
		// A horizon that is not a whole number of periods: 30 + 30 + 10 days.
		{"partial last period", ScoreOptions{HorizonDays: 70, PeriodDays: 30, AnnualDiscountRate: 0.2},
			spend * (y(30)/math.Pow(1.2, 30.0/365) + (y(60)-y(30))/math.Pow(1.2, 60.0/365) + (y(70)-y(60))/math.Pow(1.2, 70.0/365))},
	}
	for _, tc := range tests {
		got := score(tc.opts).CLV
		if math.Abs(got-tc.want) > 1e-10*tc.want {
			t.Errorf("%s: CLV %.12g, want %.12g", tc.name, got, tc.want)
		}
	}
	// Monthly discounting lies between no discount and discounting all of
	// it from the horizon.
	monthly := score(ScoreOptions{HorizonDays: 365, AnnualDiscountRate: 0.1}).CLV
	if !(monthly < y(365)*spend && monthly > y(365)*spend/1.1) {
		t.Errorf("monthly discounted CLV %.6g outside (%.6g, %.6g)", monthly, y(365)*spend/1.1, y(365)*spend)
	}
}

func TestScoreTimeUnitInvariance(t *testing.T) {
	// A weekly model is a daily model with α and all times ×7: scores must
	// agree whatever unit the model was fitted in.
	weekly := cdnowModel(t)
	daily := *weekly
	daily.TimeUnit = Days
	daily.BGNBD.Params.Alpha *= 7
	customers := []Customer{
		{ID: "a", X: 0, TX: 0, T: 38.86},
		{ID: "b", X: 2, TX: 30.43, T: 38.86, MeanValue: 22.35},
		{ID: "c", X: 26, TX: 30.85714, T: 31, MeanValue: 41},
	}
	inDays := make([]Customer, len(customers))
	for i, c := range customers {
		c.TX *= 7
		c.T *= 7
		inDays[i] = c
	}
	opts := ScoreOptions{HorizonDays: 365, AnnualDiscountRate: 0.08}
	sw, err := weekly.Score(t.Context(), customers, opts)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := daily.Score(t.Context(), inDays, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sw {
		for _, pair := range [][2]float64{
			{sw[i].ProbAlive, sd[i].ProbAlive}, {sw[i].Purchases30, sd[i].Purchases30},
			{sw[i].Purchases365, sd[i].Purchases365}, {sw[i].CLV, sd[i].CLV},
		} {
			if math.Abs(pair[0]-pair[1]) > 1e-9*math.Max(1, pair[0]) {
				t.Errorf("%s: weekly %+v, daily %+v", customers[i].ID, sw[i], sd[i])
				break
			}
		}
	}
}

func TestScoreErrors(t *testing.T) {
	m := cdnowModel(t)
	c := []Customer{{ID: "a", T: 3}}
	for _, opts := range []ScoreOptions{
		{HorizonDays: 0},
		{HorizonDays: 365, PeriodDays: -1},
		{HorizonDays: 365, AnnualDiscountRate: -1},
	} {
		if _, err := m.Score(t.Context(), c, opts); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Score(ctx, c, ScoreOptions{HorizonDays: 365}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scoring returned %v", err)
	}
}

// Scores are the same, bit for bit, on one worker or many, and the error
// reported is the first failing customer's in input order.
func TestScoreAllWorkers(t *testing.T) {
	customers, m, unitDays := fitCDNOW(t)
	opts := ScoreOptions{HorizonDays: 365, AnnualDiscountRate: 0.1, PeriodDays: 30}
	one := func(i int) (Score, error) {
		return scoreOne(m.Purchases(), m.GammaGamma.Params, customers[i], unitDays, opts)
	}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	want, err := scoreAll(t.Context(), customers, one)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 8} {
		runtime.GOMAXPROCS(w)
		got, err := scoreAll(t.Context(), customers, one)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d workers: %d scores, want %d", w, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%d workers: customer %d scored %+v, want %+v", w, i, got[i], want[i])
			}
		}
	}
	bad := map[string]error{customers[1500].ID: errors.New("first"), customers[2200].ID: errors.New("second")}
	runtime.GOMAXPROCS(4)
	_, err = scoreAll(t.Context(), customers, func(i int) (Score, error) {
		if e := bad[customers[i].ID]; e != nil {
			return Score{}, e
		}
		return Score{ID: customers[i].ID}, nil
	})
	if err == nil || err.Error() != "score clv: first" {
		t.Errorf("error %v, want the first customer's in input order", err)
	}
}

// Score computes the purchase model once per distinct (x, tₓ, T), and the
// BG/NBD series once per (x, T): every customer's score equals scoring it
// on its own, bit for bit, and a failing
// customer is still reported by its own id, the first in input order.
func TestScoreSharesPurchaseParts(t *testing.T) {
	customers, m, unitDays := fitCDNOW(t)
	distinct := map[[3]float64]bool{}
	for _, c := range customers {
		distinct[[3]float64{c.X, c.TX, c.T}] = true
	}
	if len(distinct) > len(customers)*3/4 {
		t.Fatalf("%d distinct (x, t_x, T) among %d customers: too few shared to test sharing", len(distinct), len(customers))
	}
	// a within nearOne of 1: each expectation is the mean of two, at a
	// either side of 1, which customers of one (x, T) share too.
	nearA := *m
	nearA.BGNBD.Params.A = 1 + nearOne/2
	for _, tc := range []struct {
		m    *Model
		opts ScoreOptions
	}{
		{m, ScoreOptions{HorizonDays: 365, AnnualDiscountRate: 0.1, PeriodDays: 30}},
		{m, ScoreOptions{HorizonDays: 100, PeriodDays: 7}},
		{&nearA, ScoreOptions{HorizonDays: 365, PeriodDays: 30}},
	} {
		m, opts := tc.m, tc.opts
		got, err := m.Score(t.Context(), customers, opts)
		if err != nil {
			t.Fatal(err)
		}
		if opts.PeriodDays == 0 {
			opts.PeriodDays = 30
		}
		for i, c := range customers {
			want, err := scoreOne(m.Purchases(), m.GammaGamma.Params, c, unitDays, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got[i] != want {
				t.Fatalf("%+v: customer %d scored %+v, alone %+v", opts, i, got[i], want)
			}
		}
	}
	// Two customers with the same impossible history (last purchase after
	// the end of calibration): the first one's id is reported.
	bad := slices.Clone(customers)
	bad[700].X, bad[700].TX, bad[700].T = 3, 50, 40
	bad[900].X, bad[900].TX, bad[900].T = 3, 50, 40
	bad[900].ID = "second"
	_, err := m.Score(t.Context(), bad, ScoreOptions{HorizonDays: 365})
	if err == nil || !strings.Contains(err.Error(), bad[700].ID) || strings.Contains(err.Error(), "second") {
		t.Errorf("error %v, want customer %s's", err, bad[700].ID)
	}
}

// fitCDNOW fits the CDNOW customers (with spend) in weeks.
func fitCDNOW(t *testing.T) ([]Customer, *Model, float64) {
	t.Helper()
	customers := loadCDNOWWithSpend(t)
	m, err := Fit(t.Context(), customers, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	unitDays, _ := m.TimeUnit.LengthInDays()
	return customers, m, unitDays
}

// scoreOne scores one customer on its own, the way Score did before it
// shared purchase parts: the reference the shared path is checked against.
func scoreOne(bg PurchaseModel, gg GammaGammaParams, c Customer, unitDays float64, opts ScoreOptions) (Score, error) {
	return finish(purchaseOf(bg, c, unitDays, opts), gg, c, opts)
}
