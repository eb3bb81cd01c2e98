package clv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSummarizeByHand(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	txs := []Transaction{
		// a: first purchase Jan 1; Jan 1 again (same day, not a repeat);
		// Jan 8 twice (one repeat of 30); Jan 15 (repeat of 20); Feb 1 after
		// calibration.
		{"a", day("2024-01-01"), 10},
		{"a", day("2024-01-01").Add(15 * time.Hour), 5},
		{"a", day("2024-01-08").Add(9 * time.Hour), 12},
		{"a", day("2024-01-08").Add(18 * time.Hour), 18},
		{"a", day("2024-01-15"), 20},
		{"a", day("2024-02-01"), 50},
		// b: one purchase on the calibration end day itself.
		{"b", day("2024-01-29").Add(23 * time.Hour), 7},
		// c: only after calibration: not in the cohort.
		{"c", day("2024-01-30"), 9},
		// d: 23:30 in Paris on Jan 22 is Jan 22 there (22:30 UTC); its day
		// is taken in its own location.
		{"d", time.Date(2024, 1, 1, 23, 30, 0, 0, paris), 1},
		{"d", time.Date(2024, 1, 22, 23, 30, 0, 0, paris), 3},
	}
	calEnd := day("2024-01-29")

	weeks, err := Summarize(txs, calEnd, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	want := []Customer{
		{ID: "a", X: 2, TX: 2, T: 4, MeanValue: 25},
		{ID: "b", X: 0, TX: 0, T: 0, MeanValue: 0},
		{ID: "d", X: 1, TX: 3, T: 4, MeanValue: 3},
	}
	if len(weeks) != len(want) {
		t.Fatalf("got %d customers %+v, want %d", len(weeks), weeks, len(want))
	}
	for i := range want {
		if weeks[i] != want[i] {
			t.Errorf("weeks: got %+v, want %+v", weeks[i], want[i])
		}
	}

	days, err := Summarize(txs, calEnd, Days)
	if err != nil {
		t.Fatal(err)
	}
	if days[0] != (Customer{ID: "a", X: 2, TX: 14, T: 28, MeanValue: 25}) {
		t.Errorf("days: got %+v", days[0])
	}

	h, err := SplitHoldout(txs, calEnd, day("2024-02-26"), Weeks)
	if err != nil {
		t.Fatal(err)
	}
	if h.Length != 4 || len(h.Customers) != 3 {
		t.Fatalf("holdout length %v with %d customers", h.Length, len(h.Customers))
	}
	wantActual := []float64{1, 0, 0}
	for i, w := range wantActual {
		if h.Actual[i] != w {
			t.Errorf("holdout purchases of %s: %v, want %v", h.Customers[i].ID, h.Actual[i], w)
		}
		if h.Customers[i] != weeks[i] {
			t.Errorf("holdout calibration summary %+v differs from Summarize %+v", h.Customers[i], weeks[i])
		}
	}
}

func TestSummarizeErrors(t *testing.T) {
	good := []Transaction{{"a", day("2024-01-01"), 1}}
	tests := []struct {
		name           string
		txs            []Transaction
		calEnd, holdEn time.Time
		unit           TimeUnit
	}{
		{"unit", good, day("2024-02-01"), day("2024-02-01"), "months"},
		{"no end", good, time.Time{}, time.Time{}, Days},
		{"holdout before calibration", good, day("2024-02-01"), day("2024-01-01"), Days},
		{"no customer", []Transaction{{"", day("2024-01-01"), 1}}, day("2024-02-01"), day("2024-02-01"), Days},
		{"nan amount", []Transaction{{"a", day("2024-01-01"), math.NaN()}}, day("2024-02-01"), day("2024-02-01"), Days},
	}
	for _, tc := range tests {
		if _, err := SplitHoldout(tc.txs, tc.calEnd, tc.holdEn, tc.unit); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// The one-pass summary of sorted transactions gives the same bits as the
// map of days it stands in for, on random histories with several
// purchases a day, amounts whose sum depends on its order, purchases after
// the holdout end and customers who first buy in the holdout.
func TestSplitSortedMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	cal := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	hold := cal.AddDate(0, 2, 0)
	var txs []Transaction
	for c := range 300 {
		id := fmt.Sprintf("c%04d", c)
		day := cal.AddDate(0, 0, -rng.IntN(400))
		for range 1 + rng.IntN(12) {
			txs = append(txs, Transaction{Customer: id, Time: day.Add(time.Duration(rng.IntN(86400)) * time.Second),
				Amount: float64(rng.IntN(10000))/7 + 0.1})
			day = day.AddDate(0, 0, rng.IntN(3)*rng.IntN(60)) // 0: another purchase the same day
		}
	}
	if !byCustomerAndDay(txs) {
		t.Fatal("the history is not sorted by customer and day")
	}
	for _, unit := range []TimeUnit{Days, Weeks} {
		unitDays, _ := unit.LengthInDays()
		got, err := splitSorted(txs, civilDay(cal), civilDay(hold), unitDays)
		if err != nil {
			t.Fatal(err)
		}
		want, err := splitMap(txs, civilDay(cal), civilDay(hold), unitDays)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Customers) < 200 || !reflect.DeepEqual(got, want) {
			t.Fatalf("%v: sorted pass differs from the map (%d vs %d customers)", unit, len(got.Customers), len(want.Customers))
		}
		if via, _ := SplitHoldout(txs, cal, hold, unit); !reflect.DeepEqual(via, want) {
			t.Fatalf("%v: SplitHoldout differs from the map", unit)
		}
	}
}
