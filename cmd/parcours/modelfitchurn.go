package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs/train"
	"github.com/parcours/parcours/models/churn"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) modelFitChurnCommand() *cobra.Command {
	var o struct {
		file, label, id, algo, sep, recency, save string
		noHeader, asJSON                          bool
		holdout                                   float64
		seed                                      uint64
	}
	c := &cobra.Command{
		Use:   "churn --data FILE --label COL --id COL",
		Short: "Fit a churn model on any tabular file and print its metrics on a seeded stratified holdout",
		Long: `Reads a CSV, aligned-text or Parquet file with one row per customer, a
binary label column (0/1, true/false, yes/no) and an id column. Every other
column is a feature: numeric columns as they are (blank cells are missing
values, counted and reported), text columns encoded (one-hot up to 20
levels, frequency-encoded above). Fits the chosen learner on a stratified
share of the rows and prints ROC AUC, PR AUC, lift and capture at the top
decile, Brier score and a calibration table on the held-out rest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.file == "" || o.label == "" || o.id == "" {
				return orchestration.Usage("--data, --label and --id are required")
			}
			t, err := a.readTable(o.file, o.sep, !o.noHeader)
			if err != nil {
				return err
			}
			cols := churn.ColumnsFromText(t.Header, t.Rows)
			ds, rep, err := churn.PrepareTable(cols, churn.TableOptions{Label: o.label, ID: o.id})
			if err != nil {
				return fmt.Errorf("%s: %w", o.file, err) // names column and row (churn.InputError)
			}
			l, err := train.Learner(o.algo, o.seed)
			if err != nil {
				return orchestration.Usage("--algo: %v", err)
			}
			start := time.Now()
			m, hr, err := churn.FitHoldout(ctx, l, ds, churn.HoldoutOptions{Fraction: o.holdout, Seed: o.seed, RecencyFeature: o.recency})
			if err != nil {
				return fmt.Errorf("%s: %w", o.file, err)
			}
			defer m.Close()
			fitSeconds := time.Since(start).Seconds()
			// Scoring every row with its three reasons, as the nightly job does.
			start = time.Now()
			if _, err := m.ScoreDataset(ctx, ds, churn.ScoreOptions{}); err != nil {
				return err
			}
			scoreSeconds := time.Since(start).Seconds()
			if o.save != "" {
				if err := m.SaveFile(o.save); err != nil {
					return err
				}
			}
			if o.asJSON {
				return a.printJSON(map[string]any{"file": o.file, "table": rep, "holdout": hr, "saved": o.save,
					"fit_seconds": fitSeconds, "score_seconds": scoreSeconds})
			}
			w := a.stdout
			fmt.Fprintf(w, "%s: %d rows, %d churned, %d features from %d columns\n", o.file, rep.Rows, rep.Positives, rep.Features, len(rep.Columns))
			for _, cr := range rep.Columns {
				if cr.Missing > 0 || cr.Encoding != "numeric" {
					fmt.Fprintf(w, "  %-24s %-8s %-9s %d missing\n", cr.Name, cr.Type, cr.Encoding, cr.Missing)
				}
			}
			fmt.Fprintf(w, "\n%s, holdout %.0f%% (%d rows, seed %d); fit %.2f s (incl. holdout scoring), scoring all %d rows with reasons %.2f s\n",
				hr.Algorithm, 100*hr.Fraction, hr.HoldoutRows, hr.Seed, fitSeconds, rep.Rows, scoreSeconds)
			if au := hr.Auto; au != nil {
				fmt.Fprintf(w, "auto chose %s: %d-fold cross-validated ROC AUC logreg %s, xgboost %s (lead %+.4f, standard error %.4f)%s\n",
					au.Algorithm, au.Folds, f4(au.MeanAUC[churn.AlgoLogReg]), f4(au.MeanAUC[churn.AlgoXGBoost]), au.Margin, au.StdErr, noteSuffix(au.Note))
			}
			rows := [][]string{
				{"  ROC AUC", f4(hr.Holdout.ROCAUC), f4(hr.Train.ROCAUC)}, {"  PR AUC", f4(hr.Holdout.PRAUC), f4(hr.Train.PRAUC)},
				{"  lift, top decile", f4(hr.Holdout.TopDecileLift), f4(hr.Train.TopDecileLift)},
				{"  capture, top decile", f4(hr.Holdout.TopDecileCapture), f4(hr.Train.TopDecileCapture)},
				{"  Brier", f4(hr.Holdout.Brier), f4(hr.Train.Brier)}}
			if hr.Baseline != nil {
				rows = append(rows, []string{"  recency baseline ROC AUC", f4(hr.Baseline.ROCAUC), ""})
			}
			printTable(w, []string{"  metric", "holdout", "train"}, rows)
			fmt.Fprintln(w, "\ncalibration (holdout)")
			var cal [][]string
			for _, b := range hr.Holdout.Calibration {
				if b.Count > 0 {
					cal = append(cal, []string{fmt.Sprintf("  %.1f-%.1f", b.Lower, b.Upper), strconv.Itoa(b.Count), f4(b.MeanPredicted), f4(b.ObservedRate)})
				}
			}
			printTable(w, []string{"  bin", "rows", "predicted", "observed"}, cal)
			if o.save != "" {
				fmt.Fprintf(w, "\nsaved %s\n", o.save)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.file, "data", "", "the table (CSV, aligned text or Parquet)")
	f.StringVar(&o.label, "label", "", "label column (1 = churned)")
	f.StringVar(&o.id, "id", "", "customer id column")
	f.StringVar(&o.algo, "algo", "auto", "learner: auto (logreg or xgboost, by 3-fold cross-validation on the training part), logreg, xgboost, forest")
	f.StringVar(&o.sep, "sep", "", "separator: , ; tab or whitespace (default: sniffed)")
	f.BoolVar(&o.noHeader, "no-header", false, "the file has no header line (columns are 1, 2, ...)")
	f.StringVar(&o.recency, "recency", "", "a recency column: also report the recency baseline on the same holdout")
	f.Float64Var(&o.holdout, "holdout", 0.25, "share of rows held out")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the split and the learner")
	f.StringVar(&o.save, "save", "", "save the fitted model to this file")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object")
	return c
}

func f4(v float64) string { return fmt.Sprintf("%.4f", v) }

// noteSuffix returns "; note" or "".
func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return "; " + note
}
