package train

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/models/clv"
	"github.com/parcours/parcours/models/registry"
)

// Transactions reads every purchase before a day from analytics.orders.
func Transactions(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, before time.Time) ([]clv.Transaction, error) {
	rows, err := db.QueryContext(ctx, `SELECT customer_key, order_date, CAST(amount AS DOUBLE) FROM analytics.orders
WHERE order_date < ? ORDER BY customer_key, order_date, ts, order_id`, before) // a total order: sums of same-day amounts never depend on scan order
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	defer rows.Close()
	var out []clv.Transaction
	for rows.Next() {
		var t clv.Transaction
		if err := rows.Scan(&t.Customer, &t.Time, &t.Amount); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CLVMetrics is what the registry keeps of a CLV fit.
type CLVMetrics struct {
	LogLikelihood   float64          `json:"log_likelihood"`
	GGLogLikelihood float64          `json:"gamma_gamma_log_likelihood"`
	Customers       int              `json:"customers"`
	RepeatCustomers int              `json:"repeat_customers"`
	Params          map[string]any   `json:"params"`
	HoldoutDays     int              `json:"holdout_days,omitempty"`
	Holdout         []clv.HoldoutRow `json:"holdout,omitempty"`
}

// TrainCLV fits BG/NBD + Gamma-Gamma on every purchase up to asOf and
// registers the model (promoted when its fit converged with standard
// errors, since a CLV model has no holdout score to beat). When the
// history allows it, a holdout check is fitted first on all but the last
// holdoutDays and kept in the metrics.
func TrainCLV(ctx context.Context, wh *warehouse.Warehouse, asOf time.Time, holdoutDays int) (*registry.Model, error) {
	cutoff := asOf.AddDate(0, 0, 1)
	txs, err := Transactions(ctx, wh.DB, cutoff)
	if err != nil {
		return nil, err
	}
	if len(txs) == 0 {
		return nil, fmt.Errorf("train clv: no purchases before %s", cutoff.Format(time.DateOnly))
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
					if rows, err := hm.BGNBD.Params.HoldoutCheck(ctx, h); err == nil {
						met.HoldoutDays, met.Holdout = holdoutDays, rows
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
	met.LogLikelihood, met.GGLogLikelihood = m.BGNBD.LogLikelihood, m.GammaGamma.LogLikelihood
	met.Customers, met.RepeatCustomers = m.BGNBD.N, m.GammaGamma.N
	met.Params = map[string]any{"r": m.BGNBD.Params.R, "alpha": m.BGNBD.Params.Alpha, "a": m.BGNBD.Params.A, "b": m.BGNBD.Params.B,
		"p": m.GammaGamma.Params.P, "q": m.GammaGamma.Params.Q, "v": m.GammaGamma.Params.V}
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
	rm := &registry.Model{ID: id, Kind: "clv", Algorithm: "bgnbd+gammagamma", Params: params, TrainCutoff: &cutoff,
		Metrics: metrics, Artifact: art, CreatedAt: now.UTC()}
	if err := registry.Register(ctx, wh.DB, rm); err != nil {
		return nil, err
	}
	if m.BGNBD.SE != nil && m.GammaGamma.SE != nil {
		if err := registry.Promote(ctx, wh.DB, id); err != nil {
			return nil, err
		}
		rm.Status = "promoted"
	}
	return rm, nil
}
