package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs/features"
	"github.com/parcours/parcours/jobs/purge"
	"github.com/parcours/parcours/jobs/score"
	"github.com/parcours/parcours/jobs/train"
	"github.com/parcours/parcours/models/registry"
	"github.com/parcours/parcours/orchestration"
)

// modelCommand groups the data scientist's commands.
func (a *app) modelCommand() *cobra.Command {
	c := &cobra.Command{Use: "model", Short: "Churn and lifetime-value models: train, fit your own data, list, compare, promote, explain"}
	c.AddCommand(a.modelListCommand(), a.modelShowCommand(), a.modelPromoteCommand(), a.modelCompareCommand(), a.modelTrainCommand(),
		a.modelExplainCommand(), a.modelFeaturesCommand(), a.modelFitCommand())
	return c
}

func (a *app) modelListCommand() *cobra.Command {
	var asJSON bool
	var kind string
	list := &cobra.Command{
		Use:   "list",
		Short: "Models in the registry, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, true, "parcours model list")
			if err != nil {
				return err
			}
			defer sess.Close()
			ms, err := registry.List(ctx, sess.wh.DB, sess.wh.SQL, kind)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"models": ms})
			}
			var rows [][]string
			for _, m := range ms {
				rows = append(rows, []string{m.ID, m.Kind, m.Algorithm, m.Status, date(m.TrainCutoff), date(m.EvalCutoff),
					headline(m.Metrics), m.CreatedAt.Format(time.DateTime), truncate(m.Decision, 120)})
			}
			printTable(a.stdout, []string{"ID", "KIND", "ALGORITHM", "STATUS", "TRAINED ON", "EVALUATED ON", "HOLDOUT", "CREATED", "WHY"}, rows)
			return nil
		},
	}
	list.Flags().StringVar(&kind, "kind", "", "churn or clv")
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return list
}

func (a *app) modelShowCommand() *cobra.Command {
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Everything recorded about one model: parameters, features, metrics, artifact",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, true, "parcours model show")
			if err != nil {
				return err
			}
			defer sess.Close()
			m, err := registry.Get(ctx, sess.wh.DB, sess.wh.SQL, args[0])
			if errors.Is(err, registry.ErrNotFound) {
				return orchestration.NotFound("no model %s in the registry (parcours model list)", args[0])
			} else if err != nil {
				return err
			}
			return a.printJSON(m)
		},
	}
	show.Flags().Bool("json", false, "print one JSON object (what show always prints)")
	return show
}

func (a *app) modelPromoteCommand() *cobra.Command {
	var asJSON bool
	promote := &cobra.Command{
		Use:   "promote ID",
		Short: "Make a model the one nightly scoring uses for its kind",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, false, "parcours model promote")
			if err != nil {
				return err
			}
			defer sess.Close()
			if err := registry.Promote(ctx, sess.wh.DB, sess.wh.SQL, args[0], "promoted by hand (parcours model promote)"); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"promoted": args[0]})
			}
			fmt.Fprintf(a.stdout, "promoted %s\n", args[0])
			return nil
		},
	}
	promote.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return promote
}

func (a *app) modelCompareCommand() *cobra.Command {
	var asJSON bool
	compare := &cobra.Command{
		Use:   "compare ID1 ID2",
		Short: "Two models' holdout metrics side by side",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, true, "parcours model compare")
			if err != nil {
				return err
			}
			defer sess.Close()
			var ms [2]*registry.Model
			var mets [2]map[string]any
			for i, id := range args {
				m, err := registry.Get(ctx, sess.wh.DB, sess.wh.SQL, id)
				if err != nil {
					return err
				}
				ms[i] = m
				_ = json.Unmarshal(m.Metrics, &mets[i])
			}
			if asJSON {
				return a.printJSON(map[string]any{"models": ms})
			}
			keys := map[string]bool{}
			for _, m := range mets {
				for k, v := range m {
					if _, ok := v.(float64); ok {
						keys[k] = true
					}
				}
			}
			var names []string
			for k := range keys {
				names = append(names, k)
			}
			sort.Strings(names)
			rows := [][]string{{"algorithm", ms[0].Algorithm, ms[1].Algorithm}, {"status", ms[0].Status, ms[1].Status},
				{"trained on", date(ms[0].TrainCutoff), date(ms[1].TrainCutoff)}}
			for _, k := range names {
				rows = append(rows, []string{k, num(mets[0][k]), num(mets[1][k])})
			}
			printTable(a.stdout, []string{"", args[0], args[1]}, rows)
			return nil
		},
	}
	compare.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return compare
}

func (a *app) modelTrainCommand() *cobra.Command {
	var asJSON bool
	var algo, asOf string
	trainCmd := &cobra.Command{
		Use:   "train churn|clv [--algo auto|logreg|xgboost|forest|recency] [--cutoff D]",
		Short: "Train a model on the warehouse now (time split for churn), register it, promote it if it is not worse",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			kind := args[0]
			if kind != "churn" && kind != "clv" {
				return orchestration.Usage("model train %q: want churn or clv", kind)
			}
			day := time.Now().In(a.cfg.Location()).AddDate(0, 0, -1)
			d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
			if asOf != "" {
				var err error
				if d, err = time.Parse(time.DateOnly, asOf); err != nil {
					return orchestration.Usage("--cutoff %q: want YYYY-MM-DD", asOf)
				}
			}
			sess, err := a.open(ctx, false, "parcours model train")
			if err != nil {
				return err
			}
			defer sess.Close()
			var m *registry.Model
			if kind == "clv" {
				m, err = train.TrainCLV(ctx, sess.wh, d, 90)
			} else {
				if algo == "" {
					algo = a.cfg.Models.ChurnAlgorithm
				}
				m, err = train.TrainChurn(ctx, sess.wh, a.cfg.Models, d, algo)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "%s %s (%s)\n", m.ID, m.Status, headline(m.Metrics))
			if m.Decision != "" {
				fmt.Fprintf(a.stdout, "  %s\n", m.Decision)
			}
			var met map[string]any
			if json.Unmarshal(m.Metrics, &met) == nil {
				var rows [][]string
				for _, k := range []string{"roc_auc", "baseline_roc_auc", "pr_auc", "top_decile_lift", "top_decile_capture", "brier", "positive_rate", "rows"} {
					if v, ok := met[k].(float64); ok {
						rows = append(rows, []string{"  " + k, fmt.Sprintf("%.3f", v)})
					}
				}
				printTable(a.stdout, []string{"  holdout", ""}, rows)
			}
			return nil
		},
	}
	trainCmd.Flags().StringVar(&algo, "algo", "", "churn learner: auto, logreg, xgboost, forest or recency (default from config)")
	trainCmd.Flags().StringVar(&asOf, "cutoff", "", "last day of data to use (default: yesterday); churn evaluates on the cut-off one horizon before it and trains one horizon earlier")
	trainCmd.Flags().StringVar(&asOf, "as-of", "", "same as --cutoff")
	trainCmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return trainCmd
}

func (a *app) modelExplainCommand() *cobra.Command {
	var asJSON bool
	explain := &cobra.Command{
		Use:   "explain <customer_key|email|phone|customer id>",
		Short: "A customer's latest churn risk with its reasons, and their CLV figures",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, err := a.open(ctx, true, "parcours model explain")
			if err != nil {
				return err
			}
			defer sess.Close()
			key := args[0]
			known, err := score.IsCustomer(ctx, sess.wh, key)
			if err != nil {
				return err
			}
			if !known && sess.wh.Secrets != nil {
				typ, value, err := subjectOf(ctx, sess.wh, key, "")
				if err != nil {
					return err
				}
				keys, err := purge.CustomersOf(ctx, sess.wh, typ, value)
				if err != nil {
					return err
				}
				if len(keys) == 0 {
					return orchestration.NotFound("no customer holds this identifier")
				}
				key = keys[0]
			}
			e, err := score.Explain(ctx, sess.wh, key)
			if err != nil {
				return err
			}
			res := map[string]any{"customer_key": key}
			if e.Churn != nil {
				res["churn"] = e.Churn
			}
			if e.CLV != nil {
				res["clv"] = e.CLV
			}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "customer %s\n", key)
			if c, ok := res["churn"].(map[string]any); ok {
				scored := fmt.Sprint(c["scored_on"])
				if t, ok := c["scored_on"].(time.Time); ok {
					scored = t.Format(time.DateOnly)
				}
				fmt.Fprintf(a.stdout, "churn risk %.1f%% (%s), scored %s by %v\n", 100*c["probability"].(float64), c["risk_band"], scored, c["model_id"])
				for _, k := range []string{"reason_1", "reason_2", "reason_3"} {
					if v, ok := c[k].(string); ok && v != "" {
						fmt.Fprintf(a.stdout, "  - %s\n", v)
					}
				}
			}
			if c, ok := res["clv"].(map[string]any); ok {
				fmt.Fprintf(a.stdout, "P(alive) %.2f, expected purchases 30/90/365 days %.2f / %.2f / %.2f, expected spend %.2f, CLV %.2f\n",
					c["p_alive"], c["purchases_30d"], c["purchases_90d"], c["purchases_365d"], c["expected_spend"], c["clv"])
			}
			return nil
		},
	}
	explain.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return explain
}

func (a *app) modelFeaturesCommand() *cobra.Command {
	var asJSON bool
	var cutoffs, out string
	var horizon int
	var nullLabels bool
	featuresCmd := &cobra.Command{
		Use:   "features --cutoff D[,D...] --out FILE.csv|FILE.parquet",
		Short: "Export point-in-time features with their churn label (for notebooks, other tools, model fit churn)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if cutoffs == "" || out == "" {
				return orchestration.Usage("--cutoff and --out are required")
			}
			if horizon == 0 {
				horizon = a.cfg.Models.ChurnHorizonDays
			}
			var days []time.Time
			for _, c := range strings.Split(cutoffs, ",") {
				d, err := time.Parse(time.DateOnly, strings.TrimSpace(c))
				if err != nil {
					return orchestration.Usage("--cutoff %q: want YYYY-MM-DD", c)
				}
				days = append(days, d)
			}
			sess, err := a.open(ctx, false, "parcours model features")
			if err != nil {
				return err
			}
			defer sess.Close()
			conn, err := sess.wh.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			res, err := features.Export(ctx, sess.wh, conn, features.ExportOptions{Cutoffs: days, Horizon: horizon, Out: out, IncompleteLabels: nullLabels})
			var incomplete *features.IncompleteError
			if errors.As(err, &incomplete) {
				return orchestration.Usage("%v", err)
			}
			if err != nil {
				return err
			}
			n, unlabelled, lastComplete := res.Rows, res.Unlabelled, res.LastComplete
			if asJSON {
				return a.printJSON(map[string]any{"file": out, "rows": n, "unlabelled_rows": unlabelled, "cutoffs": strings.Split(cutoffs, ","),
					"last_complete_cutoff": lastComplete.Format(time.DateOnly)})
			}
			fmt.Fprintf(a.stderr, "wrote %s: %d rows\n", out, n)
			if unlabelled > 0 {
				fmt.Fprintf(a.stderr, "%d rows have churned = null: their horizon is not complete (last complete cut-off %s)\n", unlabelled, lastComplete.Format(time.DateOnly))
			}
			return nil
		},
	}
	featuresCmd.Flags().StringVar(&cutoffs, "cutoff", "", "cut-off dates, comma-separated")
	featuresCmd.Flags().StringVar(&out, "out", "", "file to write (.csv or .parquet)")
	featuresCmd.Flags().IntVar(&horizon, "horizon", 0, "churn horizon in days (default from config)")
	featuresCmd.Flags().BoolVar(&nullLabels, "incomplete-labels", false, "write churned as null for cut-offs whose horizon is not complete, instead of refusing")
	featuresCmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return featuresCmd
}

func date(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func num(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%.4f", f)
	}
	return ""
}

// headline is the metric a list shows: ROC AUC for churn, the BG/NBD
// log-likelihood for CLV.
func headline(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"roc_auc", "log_likelihood"} {
		if v, ok := m[k].(float64); ok {
			if k == "roc_auc" {
				parts = append(parts, fmt.Sprintf("ROC AUC %.3f", v))
			} else {
				parts = append(parts, fmt.Sprintf("log-likelihood %.1f", v))
			}
		}
	}
	return strings.Join(parts, " ")
}
