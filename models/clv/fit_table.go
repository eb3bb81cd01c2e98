package clv

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TableColumns are the positions of a transaction's fields in a table
// read as text.
type TableColumns struct {
	Customer, Date, Amount int
}

// TransactionsFromTable reads transactions from text cells (a user's file:
// internal/tabular). lines[i] is rows[i]'s line in file and header names
// the columns, for errors, which name the line and the column but never
// quote a customer id.
func TransactionsFromTable(file string, header []string, rows [][]string, lines []int, c TableColumns) ([]Transaction, error) {
	txs := make([]Transaction, 0, len(rows))
	for i, r := range rows {
		id := strings.TrimSpace(r[c.Customer])
		if id == "" {
			return nil, fmt.Errorf("%s line %d: column %s: empty customer", file, lines[i], header[c.Customer])
		}
		when, err := ParseDate(strings.TrimSpace(r[c.Date]))
		if err != nil {
			return nil, fmt.Errorf("%s line %d: column %s: %w", file, lines[i], header[c.Date], err)
		}
		amt, err := strconv.ParseFloat(strings.TrimSpace(r[c.Amount]), 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: column %s: %q is not a number", file, lines[i], header[c.Amount], r[c.Amount])
		}
		txs = append(txs, Transaction{Customer: id, Time: when, Amount: amt})
	}
	if len(txs) == 0 {
		return nil, fmt.Errorf("%s: no transactions", file)
	}
	return txs, nil
}

// FitOptions tune FitTransactions.
type FitOptions struct {
	// Unit is the time unit of the parameters.
	Unit TimeUnit
	// CalibrationEnd is the last day of the calibration period (zero: the
	// last transaction's day).
	CalibrationEnd time.Time
	// HoldoutEnd, when set, compares predicted and actual purchases from
	// the calibration end to this day.
	HoldoutEnd time.Time
}

// FitResult is one fit of a transactions table, as `parcours model fit
// clv --json` prints it: each submodel's parameters, standard errors and
// log-likelihood.
type FitResult struct {
	File           string         `json:"file"`
	Transactions   int            `json:"transactions"`
	Customers      int            `json:"customers"`
	CalibrationEnd string         `json:"calibration_end"`
	TimeUnit       string         `json:"time_unit"`
	BGNBD          map[string]any `json:"bgnbd"`
	NBD            map[string]any `json:"nbd,omitempty"`
	Reduced        string         `json:"reduced,omitempty"`
	GammaGamma     map[string]any `json:"gamma_gamma"`
	Holdout        []HoldoutRow   `json:"holdout,omitempty"`
	Saved          string         `json:"saved,omitempty"`
}

// FitTransactions summarises each customer's calibration period, fits
// BG/NBD and Gamma-Gamma by maximum likelihood and, with a holdout end,
// checks the purchase model on the holdout.
func FitTransactions(ctx context.Context, txs []Transaction, o FitOptions) (*Model, *FitResult, error) {
	calEnd := o.CalibrationEnd
	if calEnd.IsZero() {
		var last time.Time
		for _, t := range txs {
			if t.Time.After(last) {
				last = t.Time
			}
		}
		calEnd = time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	}
	customers, err := Summarize(txs, calEnd, o.Unit)
	if err != nil {
		return nil, nil, err
	}
	m, err := Fit(ctx, customers, o.Unit)
	if err != nil {
		return nil, nil, err
	}
	res := &FitResult{Transactions: len(txs), Customers: len(customers),
		CalibrationEnd: calEnd.Format(time.DateOnly), TimeUnit: string(o.Unit)}
	bg, gg := m.BGNBD, m.GammaGamma
	res.BGNBD = map[string]any{"r": bg.Params.R, "alpha": bg.Params.Alpha, "a": bg.Params.A, "b": bg.Params.B,
		"log_likelihood": bg.LogLikelihood, "customers": bg.N}
	if bg.SE != nil {
		res.BGNBD["se"] = map[string]float64{"r": bg.SE.R, "alpha": bg.SE.Alpha, "a": bg.SE.A, "b": bg.SE.B}
	}
	res.GammaGamma = map[string]any{"p": gg.Params.P, "q": gg.Params.Q, "v": gg.Params.V,
		"log_likelihood": gg.LogLikelihood, "customers": gg.N, "excluded": gg.Excluded}
	if gg.SE != nil {
		res.GammaGamma["se"] = map[string]float64{"p": gg.SE.P, "q": gg.SE.Q, "v": gg.SE.V}
	}
	if m.NBD != nil {
		res.Reduced = m.Reduced
		res.NBD = map[string]any{"r": m.NBD.Params.R, "alpha": m.NBD.Params.Alpha, "log_likelihood": m.NBD.LogLikelihood, "customers": m.NBD.N}
		if m.NBD.SE != nil {
			res.NBD["se"] = map[string]float64{"r": m.NBD.SE.R, "alpha": m.NBD.SE.Alpha}
		}
	}
	if !o.HoldoutEnd.IsZero() {
		h, err := SplitHoldout(txs, calEnd, o.HoldoutEnd, o.Unit)
		if err != nil {
			return nil, nil, err
		}
		if res.Holdout, err = m.HoldoutCheck(ctx, h); err != nil {
			return nil, nil, err
		}
	}
	return m, res, nil
}
