package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs"
	"github.com/parcours/parcours/orchestration"
)

// backfillDate is what a backfill did, or would do, for one date.
type backfillDate struct {
	Date   string   `json:"date"`
	Action string   `json:"action"` // done | run | would_run | nothing_to_do | failed | not_reached
	Jobs   []string `json:"jobs,omitempty"`
	Error  string   `json:"error,omitempty"`
}

func (a *app) backfillCommand() *cobra.Command {
	var from, to, jobList string
	var dryRun, asJSON bool
	c := &cobra.Command{
		Use:   "backfill --from D1 --to D2",
		Short: "Run the nightly DAG (or some jobs) for every date from D1 to D2, in order, resuming where it stopped",
		Long: `Runs the dates from --from to --to (inclusive) in order. A date whose
selected jobs all succeeded is skipped; a date that failed before resumes at
the failed job. The first failing date stops the backfill with its exit code
(75 for a temporary failure): run the same command again to resume. A date
with nothing to do (no extract arrived, exit 99 for a run) is reported and
passed. --dry-run says, per date, what would run, without running anything.`,
		Example: `  parcours backfill --from 2026-11-01 --to 2026-11-22
  parcours backfill --from 2026-11-01 --to 2026-11-22 --jobs segments,triggers --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return orchestration.Usage("--from and --to are required")
			}
			d1, err := a.parseDate(from)
			if err != nil {
				return err
			}
			d2, err := a.parseDate(to)
			if err != nil {
				return err
			}
			if d2.Before(d1) {
				return orchestration.Usage("--to %s is before --from %s", to, from)
			}
			var targets []string
			if jobList != "" {
				targets = strings.Split(jobList, ",")
			}
			sqls, err := a.sqlSet()
			if err != nil {
				return err
			}
			dag, err := orchestration.NewDAG(jobs.All(), sqls)
			if err != nil {
				return err
			}
			names, err := dag.Select(targets, false)
			if err != nil {
				return err
			}
			command := "parcours " + strings.Join(os.Args[1:], " ")
			var out []backfillDate
			var runErr error
			for d := d1; !d.After(d2); d = d.AddDate(0, 0, 1) {
				bd := backfillDate{Date: d.Format(time.DateOnly)}
				if runErr != nil {
					bd.Action = "not_reached"
					out = append(out, bd)
					continue
				}
				pending, err := a.pendingJobs(cmd, d, names)
				if err != nil {
					return err
				}
				switch {
				case len(pending) == 0:
					bd.Action = "done"
				case dryRun:
					bd.Action, bd.Jobs = "would_run", pending
				default:
					bd.Jobs = pending
					a.log.Info().Str("date", bd.Date).Strs("jobs", pending).Msg("backfill: running date")
					sum, err := a.run(cmd, d, targets, orchestration.RunOptions{Command: command})
					switch {
					case err == nil:
						bd.Action = "run"
					case sum != nil && sum.ExitCode == orchestration.ExitNothingToDo:
						bd.Action, bd.Error = "nothing_to_do", err.Error()
					default:
						bd.Action, bd.Error = "failed", err.Error()
						runErr = fmt.Errorf("backfill stopped at %s (run the same command again to resume): %w", bd.Date, err)
					}
				}
				out = append(out, bd)
			}
			if asJSON {
				if err := a.printJSON(map[string]any{"dry_run": dryRun, "dates": out}); err != nil {
					return err
				}
				return runErr
			}
			var rows [][]string
			for _, b := range out {
				rows = append(rows, []string{b.Date, b.Action, strings.Join(b.Jobs, ","), truncate(b.Error, 100)})
			}
			printTable(a.stdout, []string{"DATE", "ACTION", "JOBS", "ERROR"}, rows)
			return runErr
		},
	}
	f := c.Flags()
	f.StringVar(&from, "from", "", "first logical date YYYY-MM-DD")
	f.StringVar(&to, "to", "", "last logical date YYYY-MM-DD (inclusive)")
	f.StringVar(&jobList, "jobs", "", "comma-separated jobs to run per date (default: the whole nightly DAG)")
	f.BoolVar(&dryRun, "dry-run", false, "say what would run per date, run nothing")
	f.BoolVar(&asJSON, "json", false, "print the outcome as one JSON object")
	return c
}

// pendingJobs lists the jobs of names not done for date (neither succeeded
// nor skipped),
// from the run ledger (nothing when the warehouse does not exist yet:
// everything is pending).
func (a *app) pendingJobs(cmd *cobra.Command, date time.Time, names []string) ([]string, error) {
	if _, err := os.Stat(warehouse.HotPath(a.cfg.Warehouse)); os.IsNotExist(err) {
		return names, nil
	}
	sess, err := a.open(cmd.Context(), true, "parcours backfill")
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	state, err := orchestration.NewLedger(sess.wh.DB, sess.wh.SQL).State(cmd.Context(), date)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if !orchestration.Done(state[n].Status) {
			out = append(out, n)
		}
	}
	return out, nil
}
