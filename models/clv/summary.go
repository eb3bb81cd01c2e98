package clv

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Transaction is one purchase: who, when and for how much.
type Transaction struct {
	Customer string
	Time     time.Time
	Amount   float64
}

// Customer is the recency-frequency-monetary summary of one customer at the
// end of a calibration period, in the time unit the summary was built with.
type Customer struct {
	ID string `json:"id"`
	// X is the number of repeat purchases (purchase days after the first).
	X float64 `json:"x"`
	// TX is the time of the last purchase since the first (0 if X == 0).
	TX float64 `json:"t_x"`
	// T is the time from the first purchase to the end of calibration.
	T float64 `json:"T"`
	// MeanValue is the mean amount of the repeat purchases (0 if X == 0).
	MeanValue float64 `json:"mean_value"`
}

// Holdout holds calibration summaries and, parallel to them, what each
// customer actually did after the calibration end.
type Holdout struct {
	Customers []Customer
	// Actual is the number of purchase days of Customers[i] in the holdout.
	Actual []float64
	// Length is the holdout length in the summaries' time unit.
	Length float64
}

// Summarize builds one Customer per customer whose first purchase falls on or
// before calibrationEnd, from the transactions up to and including that day.
// Times are reduced to calendar days in their own location, so purchases on
// the same day collapse into one purchase with the summed amount. TX and T are
// day differences divided by the unit's length (T of a customer who first
// bought on calibrationEnd is 0). The result is sorted by ID.
func Summarize(txs []Transaction, calibrationEnd time.Time, unit TimeUnit) ([]Customer, error) {
	h, err := SplitHoldout(txs, calibrationEnd, calibrationEnd, unit)
	if err != nil {
		return nil, err
	}
	return h.Customers, nil
}

// SplitHoldout summarises the calibration period exactly as Summarize does
// and counts, for each of those customers, the purchase days in the holdout
// period (calibrationEnd, holdoutEnd]. Customers who first buy after
// calibrationEnd are not part of the calibration cohort and are left out.
func SplitHoldout(txs []Transaction, calibrationEnd, holdoutEnd time.Time, unit TimeUnit) (Holdout, error) {
	unitDays, err := unit.LengthInDays()
	if err != nil {
		return Holdout{}, fmt.Errorf("summarize: %w", err)
	}
	if calibrationEnd.IsZero() {
		return Holdout{}, fmt.Errorf("summarize: calibration end is not set")
	}
	calDay := civilDay(calibrationEnd)
	holdDay := civilDay(holdoutEnd)
	if holdDay < calDay {
		return Holdout{}, fmt.Errorf("summarize: holdout end %s is before calibration end %s",
			holdoutEnd.Format(time.DateOnly), calibrationEnd.Format(time.DateOnly))
	}

	if byCustomerAndDay(txs) {
		return splitSorted(txs, calDay, holdDay, unitDays)
	}
	return splitMap(txs, calDay, holdDay, unitDays)
}

// splitMap is SplitHoldout on transactions in any order.
func splitMap(txs []Transaction, calDay, holdDay int64, unitDays float64) (Holdout, error) {
	// Per customer, the amount spent on each purchase day.
	days := make(map[string]map[int64]float64)
	for i, tx := range txs {
		if tx.Customer == "" {
			return Holdout{}, fmt.Errorf("summarize: transaction %d has no customer", i)
		}
		if math.IsNaN(tx.Amount) || math.IsInf(tx.Amount, 0) {
			return Holdout{}, fmt.Errorf("summarize: transaction %d of customer %q has amount %v", i, tx.Customer, tx.Amount)
		}
		d := civilDay(tx.Time)
		if d > holdDay {
			continue
		}
		m := days[tx.Customer]
		if m == nil {
			m = make(map[int64]float64)
			days[tx.Customer] = m
		}
		m[d] += tx.Amount
	}

	ids := make([]string, 0, len(days))
	for id := range days {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	h := Holdout{Length: float64(holdDay-calDay) / unitDays}
	for _, id := range ids {
		c, actual, ok := summarizeOne(id, days[id], calDay, unitDays)
		if !ok {
			continue
		}
		h.Customers = append(h.Customers, c)
		h.Actual = append(h.Actual, actual)
	}
	return h, nil
}

// byCustomerAndDay reports whether txs are sorted by customer, then by
// calendar day, as the warehouse reads them for scoring.
func byCustomerAndDay(txs []Transaction) bool {
	for i := 1; i < len(txs); i++ {
		a, b := &txs[i-1], &txs[i]
		if a.Customer > b.Customer || (a.Customer == b.Customer && civilDay(a.Time) > civilDay(b.Time)) {
			return false
		}
	}
	return true
}

// splitSorted is SplitHoldout on transactions sorted by customer and day
// (byCustomerAndDay), in one pass without a map per customer (a million
// customers are scored every night). A day's amounts are summed in input
// order, as the map does, so both give the same bits.
func splitSorted(txs []Transaction, calDay, holdDay int64, unitDays float64) (Holdout, error) {
	h := Holdout{Length: float64(holdDay-calDay) / unitDays}
	var days []int64
	var spend []float64
	for i := 0; i < len(txs); {
		id := txs[i].Customer
		if id == "" {
			return Holdout{}, fmt.Errorf("summarize: transaction %d has no customer", i)
		}
		days, spend = days[:0], spend[:0]
		for ; i < len(txs) && txs[i].Customer == id; i++ {
			tx := &txs[i]
			if math.IsNaN(tx.Amount) || math.IsInf(tx.Amount, 0) {
				return Holdout{}, fmt.Errorf("summarize: transaction %d of customer %q has amount %v", i, tx.Customer, tx.Amount)
			}
			d := civilDay(tx.Time)
			if d > holdDay {
				continue
			}
			if n := len(days); n > 0 && days[n-1] == d {
				spend[n-1] += tx.Amount
			} else {
				days, spend = append(days, d), append(spend, tx.Amount)
			}
		}
		if len(days) == 0 {
			continue
		}
		c, actual, ok := summarizeDays(id, days, spend, calDay, unitDays)
		if ok {
			h.Customers = append(h.Customers, c)
			h.Actual = append(h.Actual, actual)
		}
	}
	return h, nil
}

// summarizeOne turns one customer's purchase days into a calibration summary
// and a holdout count; ok is false when the first purchase is after calDay.
func summarizeOne(id string, byDay map[int64]float64, calDay int64, unitDays float64) (c Customer, holdout float64, ok bool) {
	// Sorted days make the spend sum independent of map order, so results
	// are bit-for-bit reproducible.
	days := make([]int64, 0, len(byDay))
	for d := range byDay {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	spend := make([]float64, len(days))
	for k, d := range days {
		spend[k] = byDay[d]
	}
	return summarizeDays(id, days, spend, calDay, unitDays)
}

// summarizeDays is summarizeOne on the customer's distinct purchase days,
// ascending, and the amount of each.
func summarizeDays(id string, days []int64, spend []float64, calDay int64, unitDays float64) (c Customer, holdout float64, ok bool) {
	if days[0] > calDay {
		return Customer{}, 0, false
	}
	first, last := days[0], days[0]
	var repeats, repeatSpend float64
	for k, d := range days[1:] {
		if d > calDay {
			holdout++
			continue
		}
		last = d
		repeats++
		repeatSpend += spend[k+1]
	}
	c = Customer{
		ID: id,
		X:  repeats,
		TX: float64(last-first) / unitDays,
		T:  float64(calDay-first) / unitDays,
	}
	if repeats > 0 {
		c.MeanValue = repeatSpend / repeats
	}
	return c, holdout, true
}

// civilDay numbers the calendar day of t (in t's own location) so that day
// differences are exact whatever the clock time or daylight saving.
func civilDay(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
