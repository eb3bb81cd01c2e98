package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// sklearnScript trains scikit-learn's LogisticRegression and
// HistGradientBoostingClassifier on the same features and holdout share,
// printing one JSON object per model.
const sklearnScript = `
import json, sys, time
import numpy as np, pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
df = pd.read_csv(sys.argv[1])
y = df.pop("churned").values
X = df.drop(columns=["cutoff", "customer_key"]).astype(float).values
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=1)
for name, model in [("sklearn LogisticRegression", make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=1000))),
                    ("sklearn HistGradientBoosting", HistGradientBoostingClassifier(max_iter=100, max_depth=6, random_state=1))]:
    t = time.time(); model.fit(Xtr, ytr); fit = time.time() - t
    auc = roc_auc_score(yte, model.predict_proba(Xte)[:, 1])
    print(json.dumps({"name": name, "fit_seconds": fit, "roc_auc": auc}), flush=True)
`

type modelRow struct {
	name          string
	fit, score    float64
	auc, baseline float64
	rss           int64
	note          string
}

// modelBench trains churn with every learner on the features of several
// cut-offs (at least rows of them), fits CLV on the purchase history, and
// compares with scikit-learn on the same file when python3-sklearn is there.
func modelBench(ctx context.Context, bin, wh, dir, last string, rows int) error {
	end, err := time.Parse(time.DateOnly, last)
	if err != nil {
		return err
	}
	parquet, csvFile := filepath.Join(dir, "features.parquet"), filepath.Join(dir, "features.csv")
	var cutoffs []string
	total := 0
	for d := end.AddDate(0, 0, -90); total < rows && len(cutoffs) < 16; d = d.AddDate(0, 0, -21) {
		cutoffs = append(cutoffs, d.Format(time.DateOnly))
		_, out, err := child(ctx, bin, "model", "features", "--cutoff", strings.Join(cutoffs, ","), "--out", parquet, "--warehouse", wh)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, tail(out, 10))
		}
		total = countRows(out)
	}
	if _, out, err := child(ctx, bin, "model", "features", "--cutoff", strings.Join(cutoffs, ","), "--out", csvFile, "--warehouse", wh); err != nil {
		return fmt.Errorf("%w\n%s", err, tail(out, 10))
	}
	fmt.Printf("\nchurn models on %d customer-cutoffs (%d cut-offs, 25%% stratified holdout, seed 1):\n", total, len(cutoffs))
	var res []modelRow
	for _, algo := range []string{"logreg", "xgboost", "auto", "forest", "recency"} {
		m, out, err := childStdout(ctx, bin, "model", "fit", "churn", "--data", parquet, "--label", "churned", "--id", "cutoff,customer_key",
			"--algo", algo, "--recency", "recency_days", "--json")
		if err != nil {
			return fmt.Errorf("%w\n%s", err, tail(out, 10))
		}
		var r struct {
			Fit     float64 `json:"fit_seconds"`
			Score   float64 `json:"score_seconds"`
			Holdout struct {
				Holdout struct {
					ROCAUC float64 `json:"roc_auc"`
				} `json:"holdout"`
				Baseline *struct {
					ROCAUC float64 `json:"roc_auc"`
				} `json:"recency_baseline"`
			} `json:"holdout"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("model fit churn --algo %s: %w", algo, err)
		}
		row := modelRow{name: "parcours " + algo, fit: r.Fit, score: r.Score, auc: r.Holdout.Holdout.ROCAUC, rss: m.peakRSS,
			note: fmt.Sprintf("process %.1f s", m.wall.Seconds())}
		if r.Holdout.Baseline != nil {
			row.baseline = r.Holdout.Baseline.ROCAUC
		}
		res = append(res, row)
	}
	// Debian's python3 is where make bench installs python3-sklearn.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py, _ = exec.LookPath("python3")
	}
	if py != "" {
		script := filepath.Join(dir, "sklearn_bench.py")
		if err := os.WriteFile(script, []byte(sklearnScript), 0o644); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, py, script, csvFile)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil {
			fmt.Printf("scikit-learn comparison skipped: %v %s\n", err, tail(se.Bytes(), 3))
		} else {
			var rss int64
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss = ru.Maxrss * 1024
			}
			dec := json.NewDecoder(&so)
			for dec.More() {
				var r struct {
					Name string  `json:"name"`
					Fit  float64 `json:"fit_seconds"`
					AUC  float64 `json:"roc_auc"`
				}
				if dec.Decode(&r) != nil {
					break
				}
				res = append(res, modelRow{name: r.Name, fit: r.Fit, auc: r.AUC, rss: rss, note: "peak RSS of the python process"})
			}
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tfit s\tscore+reasons s\tholdout AUC\tpeak RSS MiB\tnote\t")
	var hgb modelRow
	for _, r := range res {
		if strings.Contains(r.name, "HistGradient") {
			hgb = r
		}
	}
	for _, r := range res {
		score := "-"
		if r.score > 0 {
			score = fmt.Sprintf("%.2f", r.score)
		}
		note := r.note
		if hgb.fit > 0 && strings.HasPrefix(r.name, "parcours") {
			note += fmt.Sprintf("; fit %.2fx HistGBT's, AUC %+.4f", r.fit/hgb.fit, r.auc-hgb.auc)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%.4f\t%.0f\t%s\t\n", r.name, r.fit, score, r.auc, float64(r.rss)/(1<<20), note)
	}
	tw.Flush()
	// CLV on the purchase history.
	orders := filepath.Join(dir, "orders.csv")
	set, err := loadSQL()
	if err != nil {
		return err
	}
	q, err := set.Section("analytics.orders.sql", "fit_transactions")
	if err != nil {
		return err
	}
	// "--": the section starts with its comment, which would read as a flag.
	if _, out, err := child(ctx, bin, "query", "--warehouse", wh, "--format", "csv", "--", q); err != nil {
		return fmt.Errorf("%w\n%s", err, tail(out, 5))
	} else if err := os.WriteFile(orders, out, 0o644); err != nil {
		return err
	}
	m, out, err := childStdout(ctx, bin, "model", "fit", "clv", "--transactions", orders, "--json")
	if err != nil {
		return fmt.Errorf("%w\n%s", err, tail(out, 10))
	}
	var c struct {
		Customers    int `json:"customers"`
		Transactions int `json:"transactions"`
	}
	_ = json.Unmarshal(out, &c)
	fmt.Printf("\nCLV (BG/NBD + Gamma-Gamma): %d transactions, %d customers, fit in %.2f s (process), peak RSS %.0f MiB\n",
		c.Transactions, c.Customers, m.wall.Seconds(), float64(m.peakRSS)/(1<<20))
	return nil
}

// countRows reads the "wrote FILE: N rows" line of `model features`.
func countRows(out []byte) int {
	s := string(out)
	i := strings.LastIndex(s, ": ")
	n := 0
	if i >= 0 {
		fmt.Sscanf(s[i+2:], "%d rows", &n)
	}
	return n
}

// childStdout is child, keeping stdout apart (JSON results) from the logs.
func childStdout(ctx context.Context, bin string, args ...string) (measured, []byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	m := measured{wall: time.Since(t0)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.peakRSS = ru.Maxrss * 1024
	}
	if err != nil {
		return m, stderr.Bytes(), fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	return m, stdout.Bytes(), nil
}
