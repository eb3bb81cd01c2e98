package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs/report"
	"github.com/parcours/parcours/orchestration"
)

// reportCommand writes the shareable HTML report for a date: cold tables
// and model metrics only, charts inline, nothing fetched when opened.
func (a *app) reportCommand() *cobra.Command {
	var o struct {
		date, out string
		asJSON    bool
	}
	c := &cobra.Command{
		Use:   "report [--date D] [--out report.html]",
		Short: "Write the self-contained HTML report (KPIs, funnel, journeys, attribution, segments, models, data quality, privacy)",
		Long: `Writes one HTML file that opens offline (charts are inline SVG). It reads
only the cold store and counts (model metrics, rows loaded and quarantined,
privacy audit), never a customer row, so it can be shared. The nightly DAG
writes the same report to <export_dir>/reports/report-<date>.html.`,
		Example: `  parcours report --date 2026-06-30 --out report.html`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			date, err := a.parseDate(o.date)
			if err != nil {
				return err
			}
			out := o.out
			if out == "" {
				out = fmt.Sprintf("report-%s.html", date.Format("2006-01-02"))
			}
			s, err := a.open(ctx, true, "report")
			if err != nil {
				return err
			}
			defer s.Close()
			states, err := orchestration.NewLedger(s.wh.DB, s.wh.SQL).State(ctx, date)
			if err != nil {
				return err
			}
			if err := report.WriteFile(ctx, s.wh.DB, s.wh.SQL, date, out, states, a.cfg.Currency); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			abs, _ := filepath.Abs(out)
			if o.asJSON {
				return a.printJSON(map[string]any{"file": abs, "date": date.Format("2006-01-02")})
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), abs)
			return err
		},
	}
	c.Flags().StringVar(&o.date, "date", "", "logical date (YYYY-MM-DD; default yesterday)")
	c.Flags().StringVar(&o.out, "out", "", "output file (default report-<date>.html)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON object (the file written)")
	return c
}
