package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/tabular"
	"github.com/parcours/parcours/models/clv"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

func (a *app) modelFitCommand() *cobra.Command {
	fit := &cobra.Command{Use: "fit", Short: "Fit a model on your own file, without a warehouse"}
	fit.AddCommand(a.modelFitCLVCommand(), a.modelFitChurnCommand())
	return fit
}

// modelFitCLVCommand fits BG/NBD and Gamma-Gamma on a transactions file.
func (a *app) modelFitCLVCommand() *cobra.Command {
	var o struct {
		file, customer, date, amount, sep, calEnd, holdoutEnd, unit, save string
		noHeader, asJSON                                                  bool
	}
	c := &cobra.Command{
		Use:   "clv --transactions FILE --customer COL --date COL --amount COL",
		Short: "Fit BG/NBD (purchase counts) and Gamma-Gamma (spend) by maximum likelihood on a transactions file",
		Long: `Reads one row per transaction (CSV with a header, separator sniffed; or
--sep whitespace for aligned text; or Parquet), summarises each customer's
calibration period (purchases on one day count once; the first purchase is
not a repeat), fits BG/NBD and Gamma-Gamma by maximum likelihood and prints
r, alpha, a, b and p, q, v with standard errors and log-likelihoods. Without
a header, name columns by position (1, 2, ...).`,
		Example: `  parcours model fit clv --transactions CDNOW_sample.txt --sep whitespace --no-header \
      --customer 1 --date 3 --amount 5 --calibration-end 1997-09-30`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.file == "" {
				return orchestration.Usage("--transactions is required")
			}
			unit := clv.TimeUnit(o.unit)
			if _, err := unit.LengthInDays(); err != nil {
				return orchestration.Usage("--unit %q: want days or weeks", o.unit)
			}
			t, err := a.readTable(o.file, o.sep, !o.noHeader)
			if err != nil {
				return err
			}
			var cols clv.TableColumns
			for _, c := range []struct {
				name string
				at   *int
			}{{o.customer, &cols.Customer}, {o.date, &cols.Date}, {o.amount, &cols.Amount}} {
				if *c.at, err = t.Column(c.name); err != nil {
					return orchestration.Usage("%v", err)
				}
			}
			txs, err := clv.TransactionsFromTable(o.file, t.Header, t.Rows, t.Line, cols)
			if err != nil {
				return err
			}
			fo := clv.FitOptions{Unit: unit}
			if o.calEnd != "" {
				if fo.CalibrationEnd, err = time.Parse(time.DateOnly, o.calEnd); err != nil {
					return orchestration.Usage("--calibration-end %q: want YYYY-MM-DD", o.calEnd)
				}
			}
			if o.holdoutEnd != "" {
				if fo.HoldoutEnd, err = time.Parse(time.DateOnly, o.holdoutEnd); err != nil {
					return orchestration.Usage("--holdout-end %q: want YYYY-MM-DD", o.holdoutEnd)
				}
			}
			m, res, err := clv.FitTransactions(ctx, txs, fo)
			if err != nil {
				return err
			}
			res.File = o.file
			if o.save != "" {
				f, err := os.Create(o.save)
				if err != nil {
					return err
				}
				if err := m.Save(f); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				res.Saved = o.save
			}
			if o.asJSON {
				return a.printJSON(res)
			}
			printCLVFit(a, *res, m)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.file, "transactions", "", "transactions file (CSV, whitespace-aligned text or Parquet)")
	f.StringVar(&o.customer, "customer", "customer_id", "customer column (name, or position without a header)")
	f.StringVar(&o.date, "date", "date", "date column")
	f.StringVar(&o.amount, "amount", "amount", "amount column")
	f.StringVar(&o.sep, "sep", "", "separator: , ; tab or whitespace (default: sniffed from the first line)")
	f.BoolVar(&o.noHeader, "no-header", false, "the file has no header line")
	f.StringVar(&o.calEnd, "calibration-end", "", "last day of the calibration period (default: the last transaction's day)")
	f.StringVar(&o.holdoutEnd, "holdout-end", "", "also compare predicted and actual purchases after the calibration end, to this day")
	f.StringVar(&o.unit, "unit", "weeks", "time unit of the parameters: weeks or days")
	f.StringVar(&o.save, "save", "", "save the fitted model to this file")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object")
	return c
}

func printCLVFit(a *app, res clv.FitResult, m *clv.Model) {
	w := a.stdout
	bg, gg := m.BGNBD, m.GammaGamma
	fmt.Fprintf(w, "%s: %d transactions, %d customers, calibration to %s, in %s\n\n", res.File, res.Transactions, res.Customers, res.CalibrationEnd, res.TimeUnit)
	se := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4f", *p)
	}
	var bgSE, ggSE [4]*float64
	if bg.SE != nil {
		bgSE = [4]*float64{&bg.SE.R, &bg.SE.Alpha, &bg.SE.A, &bg.SE.B}
	}
	if gg.SE != nil {
		ggSE = [4]*float64{&gg.SE.P, &gg.SE.Q, &gg.SE.V}
	}
	if bg.N > 0 {
		fmt.Fprintf(w, "BG/NBD (%d customers)  log-likelihood %.4f\n", bg.N, bg.LogLikelihood)
		printTable(w, []string{"  param", "estimate", "std err"}, [][]string{
			{"  r", fmt.Sprintf("%.7f", bg.Params.R), se(bgSE[0])}, {"  alpha", fmt.Sprintf("%.7f", bg.Params.Alpha), se(bgSE[1])},
			{"  a", fmt.Sprintf("%.7f", bg.Params.A), se(bgSE[2])}, {"  b", fmt.Sprintf("%.7f", bg.Params.B), se(bgSE[3])}})
		if bg.SE == nil {
			fmt.Fprintln(w, "  no standard errors: the observed information matrix is not positive definite at the optimum")
		}
	}
	if n := m.NBD; n != nil {
		fmt.Fprintf(w, "\n%s\n\nNBD (%d customers)  log-likelihood %.4f\n", res.Reduced, n.N, n.LogLikelihood)
		var nse [2]*float64
		if n.SE != nil {
			nse = [2]*float64{&n.SE.R, &n.SE.Alpha}
		}
		printTable(w, []string{"  param", "estimate", "std err"}, [][]string{
			{"  r", fmt.Sprintf("%.7f", n.Params.R), se(nse[0])}, {"  alpha", fmt.Sprintf("%.7f", n.Params.Alpha), se(nse[1])}})
	}
	fmt.Fprintf(w, "\nGamma-Gamma (%d repeat customers, %d excluded)  log-likelihood %.4f\n", gg.N, gg.Excluded, gg.LogLikelihood)
	printTable(w, []string{"  param", "estimate", "std err"}, [][]string{
		{"  p", fmt.Sprintf("%.5f", gg.Params.P), se(ggSE[0])}, {"  q", fmt.Sprintf("%.5f", gg.Params.Q), se(ggSE[1])},
		{"  v", fmt.Sprintf("%.5f", gg.Params.V), se(ggSE[2])}})
	if len(res.Holdout) > 0 {
		fmt.Fprintln(w, "\nholdout: purchases per customer by calibration frequency")
		rows := make([][]string, 0, len(res.Holdout))
		for _, h := range res.Holdout {
			rows = append(rows, []string{"  " + h.Group, strconv.Itoa(h.Customers), fmt.Sprintf("%.3f", h.MeanPredicted), fmt.Sprintf("%.3f", h.MeanActual)})
		}
		printTable(w, []string{"  frequency", "customers", "predicted", "actual"}, rows)
	}
	if res.Saved != "" {
		fmt.Fprintf(w, "\nsaved %s\n", res.Saved)
	}
}

// readTable reads a user's table; the Parquet reader takes its statement
// from the command's SQL set, and a file that cannot be opened is a usage
// error.
func (a *app) readTable(path, sep string, header bool) (*tabular.Table, error) {
	var sqls *sqlfs.Set // only Parquet is read through DuckDB
	if strings.EqualFold(filepath.Ext(path), ".parquet") {
		var err error
		if sqls, err = a.sqlSet(); err != nil {
			return nil, err
		}
	}
	t, err := tabular.Read(path, sep, header, sqls)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, orchestration.Usage("%v", err)
	}
	return t, err
}
