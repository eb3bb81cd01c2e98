package train

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/models/clv"
	"github.com/parcours/parcours/models/registry"
)

// ordersSQL holds the read of the purchase history.
const ordersSQL = "analytics.orders.sql"

// Transactions reads every purchase before a day from analytics.orders,
// in the order of the section (by customer, then day), through Arrow: the
// nightly scoring reads every purchase of every customer.
func Transactions(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, before time.Time) ([]clv.Transaction, error) {
	q, err := wh.SQL.Section(ordersSQL, "transactions")
	if err != nil {
		return nil, err
	}
	var out []clv.Transaction
	err = warehouse.QueryArrow(ctx, conn, q, []any{sql.Named("before", before)}, nil, func(rec arrow.RecordBatch) error {
		keys, ok1 := rec.Column(0).(*array.String)
		days, ok2 := rec.Column(1).(*array.Date32)
		amounts, ok3 := rec.Column(2).(*array.Float64)
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("%s transactions: columns are %s, %s, %s; want VARCHAR, DATE, DOUBLE",
				ordersSQL, rec.Column(0).DataType(), rec.Column(1).DataType(), rec.Column(2).DataType())
		}
		var last string // consecutive rows share a customer: one copy of the key each
		for r := 0; r < int(rec.NumRows()); r++ {
			if keys.IsNull(r) || days.IsNull(r) || amounts.IsNull(r) {
				return fmt.Errorf("%s transactions: row with a NULL customer, day or amount", ordersSQL)
			}
			if k := keys.Value(r); k != last {
				last = strings.Clone(k) // the batch's buffer is reused
			}
			out = append(out, clv.Transaction{Customer: last, Time: days.Value(r).ToTime(), Amount: amounts.Value(r)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	return out, nil
}

// CLVMetrics is what the registry keeps of a CLV fit.
type CLVMetrics struct {
	LogLikelihood   float64        `json:"log_likelihood"`
	GGLogLikelihood float64        `json:"gamma_gamma_log_likelihood"`
	Customers       int            `json:"customers"`
	RepeatCustomers int            `json:"repeat_customers"`
	Params          map[string]any `json:"params"`
	// PurchaseModel is bgnbd, or nbd when BG/NBD was not identified
	// (Reduced says why).
	PurchaseModel string           `json:"purchase_model"`
	Reduced       string           `json:"reduced,omitempty"`
	HoldoutDays   int              `json:"holdout_days,omitempty"`
	Holdout       []clv.HoldoutRow `json:"holdout,omitempty"`
	// HoldoutNaive is the holdout purchases the no-model forecast predicts
	// (each customer repeating at their own past rate).
	HoldoutNaive float64 `json:"holdout_naive_purchases,omitempty"`
}

// holdoutTolerance: a CLV model passes its holdout check when the
// purchases it predicts over the holdout days are within this share of
// the purchases that happened, or closer to them than the no-model
// forecast (each customer at their own past rate) is.
const holdoutTolerance = 0.30

// clvDecision says whether a CLV fit may score, and why, in words.
func clvDecision(m *clv.Model, met CLVMetrics, holdoutDays int) (bool, string) {
	if ok, why := m.Identified(); !ok {
		return false, "not promoted: " + why
	}
	if m.GammaGamma.SE == nil {
		return false, "not promoted: the spend model (Gamma-Gamma) is not identified: its observed information matrix is not positive definite"
	}
	what := "BG/NBD"
	if m.NBD != nil {
		what = "NBD (" + m.Reduced + ")"
	}
	if len(met.Holdout) == 0 {
		return true, fmt.Sprintf("promoted: %s identified; no holdout check (it needs %d days of purchases to hold out the last %d)", what, 3*holdoutDays, holdoutDays)
	}
	var pred, act float64
	for _, r := range met.Holdout {
		pred += r.MeanPredicted * float64(r.Customers)
		act += r.MeanActual * float64(r.Customers)
	}
	check := fmt.Sprintf("over the last %d days it predicted %.0f purchases, %.0f happened, each customer's past rate says %.0f",
		met.HoldoutDays, pred, act, met.HoldoutNaive)
	if act == 0 || (math.Abs(pred-act) > holdoutTolerance*act && math.Abs(pred-act) > math.Abs(met.HoldoutNaive-act)) {
		return false, fmt.Sprintf("not promoted: holdout check failed: %s (more than %.0f%% off, and no closer than the past rates)", check, 100*holdoutTolerance)
	}
	return true, "promoted: " + what + " identified; holdout check passed: " + check
}

// TrainCLV fits BG/NBD + Gamma-Gamma on every purchase up to asOf and
// registers the model (promoted when its fit converged with standard
// errors, since a CLV model has no holdout score to beat). When the
// history allows it, a holdout check is fitted first on all but the last
// holdoutDays and kept in the metrics.
func TrainCLV(ctx context.Context, wh *warehouse.Warehouse, asOf time.Time, holdoutDays int) (*registry.Model, error) {
	cutoff := asOf.AddDate(0, 0, 1)
	conn, err := wh.Conn(ctx)
	if err != nil {
		return nil, err
	}
	txs, err := Transactions(ctx, wh, conn, cutoff)
	conn.Close()
	if err != nil {
		return nil, err
	}
	if len(txs) == 0 {
		return nil, fmt.Errorf("train clv: %w: no purchase up to %s", ErrShortHistory, asOf.Format(time.DateOnly))
	}
	calEnd := cutoff.AddDate(0, 0, -1)
	met := CLVMetrics{}
	if first := txs[0].Time; holdoutDays > 0 {
		for _, t := range txs {
			if t.Time.Before(first) {
				first = t.Time
			}
		}
		hEnd := calEnd.AddDate(0, 0, -holdoutDays)
		if hEnd.Sub(first) > time.Duration(2*holdoutDays)*24*time.Hour {
			h, err := clv.SplitHoldout(txs, hEnd, calEnd, clv.Weeks)
			if err == nil {
				if hm, err := clv.Fit(ctx, h.Customers, clv.Weeks); err == nil {
					if rows, err := hm.HoldoutCheck(ctx, h); err == nil {
						met.HoldoutDays, met.Holdout = holdoutDays, rows
						// The no-model forecast: each customer keeps their
						// own past repeat rate.
						for _, c := range h.Customers {
							if c.T > 0 {
								met.HoldoutNaive += c.X / c.T * h.Length
							}
						}
					}
				}
			}
		}
	}
	customers, err := clv.Summarize(txs, calEnd, clv.Weeks)
	if err != nil {
		return nil, fmt.Errorf("train clv: %w", err)
	}
	repeat := 0
	for _, c := range customers {
		if c.X > 0 && c.MeanValue > 0 {
			repeat++
		}
	}
	if len(customers) < 50 || repeat < 20 {
		return nil, fmt.Errorf("train clv: %w: %d customers, %d with repeat purchases", ErrShortHistory, len(customers), repeat)
	}
	m, err := clv.Fit(ctx, customers, clv.Weeks)
	if err != nil {
		return nil, fmt.Errorf("train clv: %w", err)
	}
	met.GGLogLikelihood, met.RepeatCustomers = m.GammaGamma.LogLikelihood, m.GammaGamma.N
	met.Params = map[string]any{"p": m.GammaGamma.Params.P, "q": m.GammaGamma.Params.Q, "v": m.GammaGamma.Params.V}
	if m.NBD != nil {
		met.PurchaseModel, met.Reduced = "nbd", m.Reduced
		met.LogLikelihood, met.Customers = m.NBD.LogLikelihood, m.NBD.N
		met.Params["r"], met.Params["alpha"] = m.NBD.Params.R, m.NBD.Params.Alpha
	} else {
		met.PurchaseModel = "bgnbd"
		met.LogLikelihood, met.Customers = m.BGNBD.LogLikelihood, m.BGNBD.N
		met.Params["r"], met.Params["alpha"], met.Params["a"], met.Params["b"] = m.BGNBD.Params.R, m.BGNBD.Params.Alpha, m.BGNBD.Params.A, m.BGNBD.Params.B
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		return nil, err
	}
	now := time.Now()
	id := registry.NewID("clv", "bgnbd+gammagamma", now)
	art, err := registry.SaveArtifact(wh.Dir, id, buf.Bytes())
	if err != nil {
		return nil, err
	}
	metrics, _ := json.Marshal(met)
	params, _ := json.Marshal(map[string]any{"time_unit": "weeks", "calibration_end": calEnd.Format(time.DateOnly), "as_of": asOf.Format(time.DateOnly)})
	promote, decision := clvDecision(m, met, holdoutDays)
	rm := &registry.Model{ID: id, Kind: "clv", Algorithm: "bgnbd+gammagamma", Params: params, TrainCutoff: &cutoff,
		Metrics: metrics, Artifact: art, CreatedAt: now.UTC(), Decision: decision}
	if m.NBD != nil {
		rm.Algorithm = "nbd+gammagamma"
	}
	if err := registry.Register(ctx, wh.DB, wh.SQL, rm); err != nil {
		return nil, err
	}
	if promote {
		if err := registry.Promote(ctx, wh.DB, wh.SQL, id, decision); err != nil {
			return nil, err
		}
		rm.Status = "promoted"
	}
	return rm, nil
}
