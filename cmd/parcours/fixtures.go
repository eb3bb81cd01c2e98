package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/fixtures"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) fixturesCommand() *cobra.Command {
	c := &cobra.Command{Use: "fixtures", Short: "Generate synthetic omnichannel extracts with planted ground truth"}
	c.AddCommand(a.fixturesGenerateCommand())
	return c
}

// fixturesGenerateCommand writes synthetic extracts with planted ground truth.
func (a *app) fixturesGenerateCommand() *cobra.Command {
	var customers, days, workers int
	var seed uint64
	var out, end string
	var asJSON bool
	c := &cobra.Command{
		Use:     "generate",
		Short:   "Write one folder of extracts per day, plus truth/ (who is who, who churned and why, channel effects)",
		Example: `  parcours fixtures generate --customers 5000 --days 120 --seed 7 --out data/`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opt := fixtures.Options{Customers: customers, Days: days, Seed: seed, Out: out, Workers: workers}
			if end != "" {
				t, err := time.Parse(time.DateOnly, end)
				if err != nil {
					return orchestration.Usage("--end %q: want YYYY-MM-DD", end)
				}
				opt.End = t
			}
			if customers <= 0 || days <= 0 {
				return orchestration.Usage("--customers and --days must be positive")
			}
			t0 := time.Now()
			m, err := fixtures.Generate(cmd.Context(), opt)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(m)
			}
			var rows int64
			for _, f := range m.Files {
				rows += f.Rows
			}
			fmt.Fprintf(a.stdout, "generated %d customers and %d anonymous visitors over %d days (%s to %s), %d rows, in %.1fs -> %s\n",
				m.Customers, m.Visitors, m.Days, m.First, m.Last, rows, time.Since(t0).Seconds(), out)
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&customers, "customers", 5000, "persons with a CRM record")
	f.IntVar(&days, "days", 120, "number of daily folders")
	f.Uint64Var(&seed, "seed", 7, "random seed: same seed, same bytes")
	f.StringVar(&out, "out", "data", "output folder")
	f.StringVar(&end, "end", "", "last folder's date YYYY-MM-DD (default 2026-11-22)")
	f.IntVar(&workers, "workers", 0, "parallel workers (default: one per core; does not change the output)")
	f.BoolVar(&asJSON, "json", false, "print the manifest as one JSON object")
	return c
}
