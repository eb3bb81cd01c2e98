package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/parcours/parcours/models/clv"
	"github.com/parcours/parcours/models/eval"
)

// churnMetrics mirrors what jobs/train keeps in ops.models.metrics for a
// churn model (train.ChurnMetrics; that package is not imported because
// it links the XGBoost C library).
type churnMetrics struct {
	eval.Metrics
	BaselineROCAUC float64 `json:"baseline_roc_auc"`
	TrainRows      int     `json:"train_rows"`
	TrainChurnRate float64 `json:"train_churn_rate"`
}

// clvMetrics mirrors train.CLVMetrics.
type clvMetrics struct {
	LogLikelihood   float64          `json:"log_likelihood"`
	GGLogLikelihood float64          `json:"gamma_gamma_log_likelihood"`
	Customers       int              `json:"customers"`
	RepeatCustomers int              `json:"repeat_customers"`
	Params          map[string]any   `json:"params"`
	HoldoutDays     int              `json:"holdout_days"`
	Holdout         []clv.HoldoutRow `json:"holdout"`
}

// promotedModel is the registry row of a kind's promoted model.
type promotedModel struct {
	ID, Algorithm           string
	TrainCutoff, EvalCutoff sql.NullTime
	Metrics                 string
}

// loadPromoted reads the promoted model of a kind; ok is false when there
// is none.
func loadPromoted(ctx context.Context, rd reader, kind string) (promotedModel, bool, error) {
	var m promotedModel
	var metrics sql.NullString
	err := queryRow(ctx, rd, htmlSQL, "promoted_model", []any{sql.Named("kind", kind)},
		&m.ID, &m.Algorithm, &m.TrainCutoff, &m.EvalCutoff, &metrics)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("read promoted %s model: %w", kind, err)
	}
	m.Metrics = metrics.String
	return m, true, nil
}

// churnParts draws the churn model's holdout evaluation: ROC curve, lift
// per decile, cumulative gains, calibration, and the headline metrics.
func churnParts(m promotedModel, met churnMetrics) ([]part, error) {
	var parts []part
	evalOn := "its holdout"
	if m.EvalCutoff.Valid {
		evalOn = "the holdout cut-off " + fmtDate(m.EvalCutoff.Time)
	}
	rocSr := series{Name: m.Algorithm}
	for _, p := range met.ROC {
		rocSr.X = append(rocSr.X, p.FPR)
		rocSr.Y = append(rocSr.Y, p.TPR)
	}
	c, err := lineChart(lineSpec{Series: []series{rocSr}, XLabel: "false positive rate", YLabel: "true positive rate", Diagonal: true, Unit: true})
	pt, err := figurePart("churn-roc", fmt.Sprintf("ROC curve on %s: AUC %.3f (recency baseline %.3f); dashed: random", evalOn, met.ROCAUC, met.BaselineROCAUC),
		c, err, "this model's metrics hold no ROC points (models trained before they were stored).", false)
	if err != nil {
		return nil, err
	}
	parts = append(parts, pt)

	lift := series{Name: "lift"}
	gains := series{Name: "captured", X: []float64{0}, Y: []float64{0}}
	var deciles []string
	for _, d := range met.LiftCurve {
		deciles = append(deciles, strconv.Itoa(d.Decile))
		lift.Y = append(lift.Y, d.Lift)
		gains.X = append(gains.X, float64(d.Decile)/10)
		gains.Y = append(gains.Y, d.CumulativeCapture)
	}
	c, err = barChart(barSpec{Categories: deciles, Groups: []series{lift}, ValueLabel: "lift (churn rate / overall rate)", CategoryLabel: "decile of predicted churn (1 = highest)"})
	// Lift and capture are shares of the holdout's churners: without a
	// churner they have no denominator, n/a rather than a number.
	noChurner := !(met.PositiveRate > 0)
	liftText, captureText := fmtNumber(met.TopDecileLift, 2)+"×", fmtPercent(met.TopDecileCapture, 0)
	if noChurner || !finite(met.TopDecileLift) {
		liftText = notApplicable
	}
	if noChurner || !finite(met.TopDecileCapture) {
		captureText = notApplicable
	}
	pt, err = figurePart("churn-lift", fmt.Sprintf("Lift per decile on %s: top decile %s", evalOn, liftText), c, err,
		"this model's metrics hold no lift per decile.", false)
	if err != nil {
		return nil, err
	}
	parts = append(parts, pt)
	if len(met.LiftCurve) == 0 {
		gains = series{}
	}
	c, err = lineChart(lineSpec{Series: []series{gains}, X: axisPercent, Y: axisPercent, XLabel: "share of customers targeted (highest risk first)",
		YLabel: "share of churners captured", Diagonal: true, Unit: true})
	pt, err = figurePart("churn-gains", fmt.Sprintf("Cumulative gains on %s: the top 10%% hold %s of churners; dashed: random", evalOn, captureText),
		c, err, "this model's metrics hold no gains curve.", false)
	if err != nil {
		return nil, err
	}
	parts = append(parts, pt)

	cal := series{Name: "observed"}
	for _, b := range met.Calibration {
		if b.Count > 0 {
			cal.X = append(cal.X, b.MeanPredicted)
			cal.Y = append(cal.Y, b.ObservedRate)
		}
	}
	c, err = lineChart(lineSpec{Series: []series{cal}, X: axisPercent, Y: axisPercent, XLabel: "mean predicted churn probability",
		YLabel: "observed churn rate", Diagonal: true, Unit: true})
	pt, err = figurePart("churn-calibration", fmt.Sprintf("Calibration on %s (10 bins of predictions; on the dashed line predictions match outcomes; Brier %.3f)", evalOn, met.Brier),
		c, err, "this model's metrics hold no calibration table.", false)
	if err != nil {
		return nil, err
	}
	parts = append(parts, pt)

	t := &table{Caption: "Promoted churn model", Head: []string{"measure", "value"}}
	add := func(k, v string) { t.Rows = append(t.Rows, []cell{textCell(k), numCell(v)}) }
	add("model", m.ID)
	add("algorithm", m.Algorithm)
	if m.TrainCutoff.Valid {
		add("training cut-off", fmtDate(m.TrainCutoff.Time))
	}
	if m.EvalCutoff.Valid {
		add("holdout cut-off", fmtDate(m.EvalCutoff.Time))
	}
	add("training rows", fmtInt(int64(met.TrainRows)))
	add("holdout rows", fmtInt(int64(met.Rows)))
	add("holdout churn rate", fmtPercent(met.PositiveRate, 1))
	add("ROC AUC", fmtNumber(met.ROCAUC, 3))
	add("ROC AUC of the recency baseline", fmtNumber(met.BaselineROCAUC, 3))
	add("PR AUC (average precision)", fmtNumber(met.PRAUC, 3))
	if noChurner {
		add("top-decile lift", notApplicable)
		add("top-decile capture", notApplicable)
	} else {
		add("top-decile lift", fmtNumber(met.TopDecileLift, 2))
		add("top-decile capture", fmtPercent(met.TopDecileCapture, 1))
	}
	add("Brier score", fmtNumber(met.Brier, 4))
	add("log loss", fmtNumber(met.LogLoss, 4))
	parts = append(parts, part{Table: t})
	return parts, nil
}

// clvParts draws the CLV model's holdout check (predicted vs actual mean
// purchases per calibration frequency) and its fitted parameters.
func clvParts(m promotedModel, met clvMetrics) ([]part, error) {
	var parts []part
	pred, act := series{Name: "predicted"}, series{Name: "actual"}
	var groups []string
	t := &table{Caption: fmt.Sprintf("Holdout check over the last %d days before the fit's end", met.HoldoutDays),
		Head: []string{"repeat purchases in calibration", "customers", "predicted purchases (mean)", "actual purchases (mean)"}}
	for _, r := range met.Holdout {
		groups = append(groups, r.Group)
		pred.Y = append(pred.Y, r.MeanPredicted)
		act.Y = append(act.Y, r.MeanActual)
		t.Rows = append(t.Rows, []cell{textCell(r.Group), numCell(fmtInt(int64(r.Customers))),
			numCell(fmtNumber(r.MeanPredicted, 3)), numCell(fmtNumber(r.MeanActual, 3))})
	}
	c, err := barChart(barSpec{Categories: groups, Groups: []series{pred, act}, ValueLabel: "purchases per customer",
		CategoryLabel: "repeat purchases in the calibration period"})
	pt, err := figurePart("clv-holdout", fmt.Sprintf("CLV calibration: BG/NBD predicted vs actual purchases in a %d-day holdout, by calibration frequency", met.HoldoutDays),
		c, err, "the promoted CLV model has no holdout check (its history was too short to hold out the last days).", false)
	if err != nil {
		return nil, err
	}
	if pt.Figure == nil {
		pt.Heading = "CLV calibration (holdout check)"
	}
	parts = append(parts, pt)
	if pt.Figure != nil {
		parts = append(parts, part{Table: t})
	}
	pt2 := &table{Caption: "Promoted CLV model (BG/NBD + Gamma-Gamma, time unit weeks)", Head: []string{"measure", "value"}}
	add := func(k, v string) { pt2.Rows = append(pt2.Rows, []cell{textCell(k), numCell(v)}) }
	add("model", m.ID)
	add("customers in the fit", fmtInt(int64(met.Customers)))
	add("customers with repeat purchases", fmtInt(int64(met.RepeatCustomers)))
	keys := make([]string, 0, len(met.Params))
	for k := range met.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := met.Params[k].(float64); ok {
			add("parameter "+k, fmtNumber(v, 4))
		}
	}
	add("log-likelihood (BG/NBD)", fmtNumber(met.LogLikelihood, 2))
	add("log-likelihood (Gamma-Gamma)", fmtNumber(met.GGLogLikelihood, 2))
	parts = append(parts, part{Table: pt2, Wide: pt.Figure == nil})
	return parts, nil
}

// modelSection is section 6: the promoted churn and CLV models' holdout
// evaluations, read from ops.models.metrics (numbers only).
func modelSection(ctx context.Context, rd reader, v view) (section, error) {
	day := v.Day
	s := section{ID: "models", Title: "Churn and CLV models",
		Window: "the promoted churn and CLV models in the registry (ops.models), each evaluated on a later holdout than it was trained on; report date " + fmtDate(day) + "."}
	ok, err := tableExists(ctx, rd, "ops.models")
	if err != nil || !ok {
		s.Parts = append(s.Parts, emptyPart("", "the model registry ops.models has not been created yet."))
		return s, err
	}
	m, ok, err := loadPromoted(ctx, rd, "churn")
	if err != nil {
		return s, err
	}
	if !ok {
		s.Parts = append(s.Parts, emptyPart("Churn model", "no churn model has been promoted (the train job promotes one once the history is long enough)."))
	} else {
		var met churnMetrics
		if err := unmarshalMetrics(m, &met); err != nil {
			return s, err
		}
		parts, err := churnParts(m, met)
		if err != nil {
			return s, err
		}
		s.Parts = append(s.Parts, parts...)
	}
	m, ok, err = loadPromoted(ctx, rd, "clv")
	if err != nil {
		return s, err
	}
	if !ok {
		s.Parts = append(s.Parts, emptyPart("CLV model", "no CLV model has been promoted yet."))
		return s, nil
	}
	var met clvMetrics
	if err := unmarshalMetrics(m, &met); err != nil {
		return s, err
	}
	parts, err := clvParts(m, met)
	if err != nil {
		return s, err
	}
	s.Parts = append(s.Parts, parts...)
	return s, nil
}

// unmarshalMetrics decodes a model's metrics JSON; a model registered
// without metrics decodes to zero values (its charts say "no data").
func unmarshalMetrics(m promotedModel, into any) error {
	if m.Metrics == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(m.Metrics), into); err != nil {
		return fmt.Errorf("metrics of model %s: %w", m.ID, err)
	}
	return nil
}
