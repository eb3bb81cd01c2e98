package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parcours/parcours/models/clv"
)

// cdnowDir is the CDNOW data committed under fixtures/testdata/cdnow (or
// $PARCOURS_CDNOW_DIR).
func cdnowDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PARCOURS_CDNOW_DIR")
	if dir == "" {
		abs, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "testdata", "cdnow"))
		if err != nil {
			t.Fatal(err)
		}
		dir = abs
	}
	if _, err := os.Stat(filepath.Join(dir, "CDNOW_sample.txt")); err != nil {
		t.Fatalf("CDNOW reference data missing at %s: %v", dir, err)
	}
	return dir
}

// `parcours model fit clv` on CDNOW_sample.txt reproduces the published
// BG/NBD and Gamma-Gamma estimates and predictions.
func TestModelFitCLVReproducesCDNOW(t *testing.T) {
	dir := cdnowDir(t)
	saved := filepath.Join(t.TempDir(), "cdnow.clv")
	out := mustCLI(t, "model", "fit", "clv", "--transactions", filepath.Join(dir, "CDNOW_sample.txt"),
		"--sep", "whitespace", "--no-header", "--customer", "1", "--date", "3", "--amount", "5",
		"--calibration-end", "1997-09-30", "--save", saved, "--json").stdout
	var res struct {
		Customers  int                `json:"customers"`
		BGNBD      map[string]float64 `json:"bgnbd"`
		GammaGamma map[string]float64 `json:"gamma_gamma"`
	}
	// se is a nested object: decode numbers only.
	var raw struct {
		Customers  int                        `json:"customers"`
		BGNBD      map[string]json.RawMessage `json:"bgnbd"`
		GammaGamma map[string]json.RawMessage `json:"gamma_gamma"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	res.Customers, res.BGNBD, res.GammaGamma = raw.Customers, map[string]float64{}, map[string]float64{}
	for k, v := range raw.BGNBD {
		var f float64
		if json.Unmarshal(v, &f) == nil {
			res.BGNBD[k] = f
		}
	}
	for k, v := range raw.GammaGamma {
		var f float64
		if json.Unmarshal(v, &f) == nil {
			res.GammaGamma[k] = f
		}
	}
	if res.Customers != 2357 {
		t.Fatalf("customers = %d, want 2357", res.Customers)
	}
	for _, c := range []struct {
		name      string
		got, want float64
		tol       float64 // relative
	}{
		{"r", res.BGNBD["r"], 0.2425982, 0.005}, {"alpha", res.BGNBD["alpha"], 4.4136842, 0.005},
		{"a", res.BGNBD["a"], 0.7929899, 0.005}, {"b", res.BGNBD["b"], 2.4261667, 0.005},
		{"p", res.GammaGamma["p"], 6.25, 0.01}, {"q", res.GammaGamma["q"], 3.74, 0.01}, {"v", res.GammaGamma["v"], 15.44, 0.01},
	} {
		if math.Abs(c.got/c.want-1) > c.tol {
			t.Errorf("%s = %.7f, published %.7f (tolerance %.1f%%)", c.name, c.got, c.want, 100*c.tol)
		}
	}
	if ll := res.BGNBD["log_likelihood"]; math.Abs(ll-(-9582.429)) > 0.01 {
		t.Errorf("BG/NBD log-likelihood %.4f, published -9582.429", ll)
	}
	// The saved model's predictions with the fitted parameters.
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := clv.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	p := m.BGNBD.Params
	ey, _ := p.ConditionalExpectedPurchases(clv.Customer{X: 2, TX: 30.43, T: 38.86}, 39)
	e52, _ := p.ConditionalExpectedPurchases(clv.Customer{X: 26, TX: 30.85714, T: 31}, 52)
	pa, _ := p.ProbAlive(clv.Customer{X: 26, TX: 30.85714, T: 31})
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"E[Y(39)|2,30.43,38.86]", ey, 1.226}, {"E[Y(52)|26,30.86,31]", e52, 25.75659}, {"P(alive|26,30.86,31)", pa, 0.9688523}} {
		// "To 3 decimals": both round to the same third decimal.
		if math.Round(c.got*1000) != math.Round(c.want*1000) {
			t.Errorf("%s = %.5f, published %.5f: not equal to 3 decimals", c.name, c.got, c.want)
		}
	}
}

// Bad input to `model fit clv` names the file, line and column.
func TestModelFitCLVBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, want string
		code             int
	}{
		{"bad date", "customer_id,date,amount\nA,2026-01-01,10\nA,2026-13-45,5\n", "line 3: column date", 1},
		{"bad amount", "customer_id,date,amount\nA,2026-01-01,ten\n", "line 2: column amount", 1},
		{"missing column", "customer,date,amount\nA,2026-01-01,10\n", `no column "customer_id"`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			r := cli(t, nil, "model", "fit", "clv", "--transactions", p)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, p) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %s and %q", r.code, r.stderr, tc.code, p, tc.want)
			}
		})
	}
}

// `parcours model fit churn` on a user's file: blanks are missing values,
// text columns are encoded, a bad label or a missing column is an error
// naming the column and row.
func TestModelFitChurnUserFile(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,churned,recency,visits,segment,score\n")
	for i := 0; i < 400; i++ {
		rec := (i * 37) % 300
		churned := "no"
		if (rec > 120) != (i%11 == 0) {
			churned = "yes"
		}
		visits := ""
		if i%7 != 0 {
			visits = strconv.Itoa((i * 13) % 20)
		}
		seg := []string{"gold", "silver", "bronze"}[i%3]
		b.WriteString(strings.Join([]string{"C" + strconv.Itoa(i), churned, strconv.Itoa(rec), visits, seg, strconv.Itoa(i % 5)}, ",") + "\n")
	}
	good := filepath.Join(dir, "customers.csv")
	if err := os.WriteFile(good, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "model", "fit", "churn", "--data", good, "--label", "churned", "--id", "id", "--recency", "recency", "--json").stdout
	var res struct {
		Table struct {
			Rows    int `json:"rows"`
			Columns []struct {
				Name, Encoding string
				Missing        int
			} `json:"columns"`
		} `json:"table"`
		Holdout struct {
			Holdout struct {
				ROCAUC float64 `json:"roc_auc"`
			} `json:"holdout"`
			Baseline *struct {
				ROCAUC float64 `json:"roc_auc"`
			} `json:"recency_baseline"`
		} `json:"holdout"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Table.Rows != 400 {
		t.Errorf("rows = %d", res.Table.Rows)
	}
	for _, c := range res.Table.Columns {
		if c.Name == "visits" && c.Missing != 58 {
			t.Errorf("visits: %d missing, want 58", c.Missing)
		}
		if c.Name == "segment" && c.Encoding != "onehot" {
			t.Errorf("segment encoded as %q", c.Encoding)
		}
	}
	if res.Holdout.Holdout.ROCAUC < 0.8 || res.Holdout.Baseline == nil {
		t.Errorf("holdout AUC %.3f on a recency-driven label; baseline %v", res.Holdout.Holdout.ROCAUC, res.Holdout.Baseline)
	}
	for _, tc := range []struct{ name, body, label, want string }{
		{"missing label column", "id,x\nA,1\n", "churned", `"churned"`},
		{"non-binary label", "id,churned,x\nA,1,1\nB,maybe,2\n", "churned", `data row 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			os.WriteFile(p, []byte(tc.body), 0o644)
			r := cli(t, nil, "model", "fit", "churn", "--data", p, "--label", tc.label, "--id", "id")
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, p) {
				t.Fatalf("exit %d, stderr %q; want the file and %s", r.code, r.stderr, tc.want)
			}
		})
	}
}

// The nightly run trains (time split) and scores churn and CLV on
// generated data: the churn model reaches ROC AUC 0.80 on its holdout and
// beats the recency baseline; every purchaser is scored with a probability,
// a band and reasons in words, and customers who dropped out for a planted
// reason (unresolved calls, low NPS, email fatigue) are told that reason.
func TestNightlyTrainsAndScores(t *testing.T) {
	data := dataset(t, 3000, 365, 21)
	wh := t.TempDir()
	date := lastDate(t, data)
	mustCLI(t, "run", "nightly", "--date", date, "--input", data, "--warehouse", wh)
	m := queryCSV(t, wh, `SELECT kind, status, coalesce(CAST(json_extract(metrics, '$.roc_auc') AS DOUBLE), 0),
  coalesce(CAST(json_extract(metrics, '$.baseline_roc_auc') AS DOUBLE), 0) FROM ops.models ORDER BY kind`)
	if len(m) != 2 || m[0][0] != "churn" || m[0][1] != "promoted" || m[1][0] != "clv" || m[1][1] != "promoted" {
		t.Fatalf("registry: %v", m)
	}
	auc, _ := strconv.ParseFloat(m[0][2], 64)
	base, _ := strconv.ParseFloat(m[0][3], 64)
	t.Logf("churn holdout ROC AUC %.4f, recency baseline %.4f", auc, base)
	// The nightly learner is auto: the registry keeps its cross-validation,
	// and the model registered is the one it chose.
	a := queryCSV(t, wh, `SELECT algorithm, metrics->>'$.auto.algorithm', metrics->>'$.auto.cv_roc_auc', metrics->>'$.auto.xgboost_lead', metrics->>'$.auto.lead_std_err' FROM ops.models WHERE kind = 'churn'`)
	t.Logf("auto chose %s: cv %s, xgboost lead %s ± %s", a[0][1], a[0][2], a[0][3], a[0][4])
	if a[0][1] == "" || a[0][0] != a[0][1] || !strings.Contains(a[0][2], "logreg") {
		t.Errorf("auto's choice in the registry: %v", a)
	}
	if auc < 0.80 || auc <= base || base < 0.5 {
		t.Errorf("churn model AUC %.4f (want >= 0.80 and above the recency baseline %.4f)", auc, base)
	}
	// Planted drivers: among recent drop-outs, the share whose reasons name
	// their driver, against the share among drop-outs for other reasons.
	drivers := queryRead(t, wh, []string{data}, fmt.Sprintf(`
WITH t AS (SELECT customer_id, reason, CAST(dropout_date AS DATE) AS d FROM read_csv('%[1]s', all_varchar = true) WHERE dropped_out = 'true'),
s AS (SELECT t.reason, lower(concat_ws(' | ', c.reason_1, c.reason_2, c.reason_3)) AS r
      FROM t JOIN identity.customer_map m ON m.id_token = pseudonym('customer_id', t.customer_id)
      JOIN analytics.churn_scores c ON c.customer_key = m.customer_key AND c.scored_on = '%[2]s'
      WHERE t.d > DATE '%[2]s' - 120),
k AS (SELECT * FROM (VALUES ('service', 'call'), ('nps', 'nps|satisfaction'), ('email_fatigue', 'email')) v(reason, pat))
SELECT k.reason, count(*) FILTER (WHERE s.reason = k.reason),
       avg(CAST(regexp_matches(s.r, k.pat) AS INT)) FILTER (WHERE s.reason = k.reason),
       avg(CAST(regexp_matches(s.r, k.pat) AS INT)) FILTER (WHERE s.reason <> k.reason)
FROM k CROSS JOIN s GROUP BY k.reason ORDER BY 1`, filepath.Join(data, "truth", "churn.csv"), date))
	if len(drivers) != 3 {
		t.Fatalf("planted drivers: %v", drivers)
	}
	for _, d := range drivers {
		own, _ := strconv.ParseFloat(d[2], 64)
		other, _ := strconv.ParseFloat(d[3], 64)
		t.Logf("%s churners (%s): %.0f%% told their driver, %.0f%% of other churners", d[0], d[1], 100*own, 100*other)
		if atoi(t, d[1]) < 5 || own < 0.5 || own < other+0.2 {
			t.Errorf("%s churners: %.2f name the driver (others %.2f); want >= 0.5 and 0.2 above", d[0], own, other)
		}
	}
	r := queryCSV(t, wh, fmt.Sprintf(`SELECT
  (SELECT count(*) FROM analytics.churn_scores WHERE scored_on = '%[1]s'),
  (SELECT count(*) FROM analytics.customer_features WHERE cutoff = DATE '%[1]s' + 1),
  (SELECT count(*) FROM analytics.churn_scores WHERE scored_on = '%[1]s' AND (reason_1 IS NULL OR probability NOT BETWEEN 0 AND 1 OR risk_band NOT IN ('low', 'medium', 'high')
     OR json_type(reasons) <> 'ARRAY' OR reasons->>'$[0].text' <> reason_1)),
  (SELECT count(*) FROM analytics.clv_scores WHERE scored_on = '%[1]s'),
  (SELECT count(*) FROM analytics.clv_scores WHERE scored_on = '%[1]s' AND (p_alive NOT BETWEEN 0 AND 1 OR clv < 0 OR purchases_365d < purchases_30d))`, date))
	if r[0][0] != r[0][1] || atoi(t, r[0][0]) < 100 || r[0][2] != "0" || atoi(t, r[0][3]) < 100 || r[0][4] != "0" {
		t.Errorf("churn scores %s of %s purchasers, %s malformed; clv scores %s, %s malformed", r[0][0], r[0][1], r[0][2], r[0][3], r[0][4])
	}
	// Reasons read like sentences about the customer.
	reasons := queryCSV(t, wh, fmt.Sprintf(`SELECT reason_1 FROM analytics.churn_scores WHERE scored_on = '%s' AND risk_band = 'high' LIMIT 20`, date))
	for _, x := range reasons {
		if strings.Contains(x[0], "_") || strings.Contains(x[0], "=") {
			t.Errorf("reason %q is not in plain words", x[0])
		}
	}
	// The CLV model keeps its holdout check: predicted vs actual purchases
	// in the last 90 days by calibration frequency group.
	h := queryCSV(t, wh, `SELECT g->>'group', CAST(g->>'customers' AS INTEGER), round(CAST(g->>'mean_predicted' AS DOUBLE), 3), round(CAST(g->>'mean_actual' AS DOUBLE), 3)
FROM (SELECT unnest(CAST(json_extract(metrics, '$.holdout') AS JSON[])) AS g FROM ops.models WHERE kind = 'clv')`)
	if len(h) < 4 {
		t.Fatalf("CLV holdout table: %v", h)
	}
	for _, g := range h {
		t.Logf("clv holdout frequency %s: %s customers, predicted %s, actual %s", g[0], g[1], g[2], g[3])
		if g[0] == "" || atoi(t, g[1]) < 1 || g[2] == "" || g[3] == "" {
			t.Errorf("CLV holdout row %v", g)
		}
	}
	// model explain tells one high-risk customer why.
	if len(reasons) > 0 {
		k := queryCSV(t, wh, fmt.Sprintf(`SELECT customer_key FROM analytics.churn_scores WHERE scored_on = '%s' ORDER BY probability DESC LIMIT 1`, date))[0][0]
		out := mustCLI(t, "model", "explain", k, "--warehouse", wh).stdout
		if !strings.Contains(out, "churn risk") || !strings.Contains(out, "  - ") || !strings.Contains(out, "P(alive)") {
			t.Errorf("model explain:\n%s", out)
		}
	}
	// A forced rerun retrains nothing and scores identically.
	before := queryCSV(t, wh, "SELECT count(*), sum(hash(customer_key, probability, reason_1)) FROM analytics.churn_scores")
	mustCLI(t, "run", "nightly", "--force", "--date", date, "--input", data, "--warehouse", wh)
	if after := queryCSV(t, wh, "SELECT count(*), sum(hash(customer_key, probability, reason_1)) FROM analytics.churn_scores"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("rerun changed the scores: %v -> %v", before, after)
	}
	if n := queryCSV(t, wh, "SELECT count(*) FROM ops.models")[0][0]; n != "2" {
		t.Errorf("rerun trained again: %s models", n)
	}
}
