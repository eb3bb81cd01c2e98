package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs"
	"github.com/parcours/parcours/jobs/ingest"
	"github.com/parcours/parcours/jobs/report"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

const progressFile = ".parcours.progress.json"

func (a *app) runCommand() *cobra.Command {
	var date, summaryPath string
	var force, withUpstream, asJSON bool
	c := &cobra.Command{
		Use:   "run [nightly | JOB...]",
		Short: "Run the nightly DAG, or some of its jobs, for a logical date",
		Long: `Run the nightly DAG ("nightly", the default) or the named jobs for one logical
date. Jobs already done for the date are left unless --force; a job with
nothing to do (too little history, no promoted model) is skipped with its
reason; a run after a failure resumes at the failed job. A second run against a
warehouse in use exits 75 at once, naming the holder.`,
		Example: `  parcours run nightly --date 2026-11-22 --input data/ --warehouse warehouse/
  parcours run ingest --date 2026-11-22
  parcours run identity --date 2026-11-22 --with-upstream --force`,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.parseDate(date)
			if err != nil {
				return err
			}
			command := "parcours " + strings.Join(os.Args[1:], " ")
			sum, err := a.run(cmd, d, args, orchestration.RunOptions{Force: force, WithUpstream: withUpstream, Command: command})
			if summaryPath != "" {
				if werr := sum.WriteFile(summaryPath); werr != nil {
					a.log.Error().Err(werr).Msg("could not write the run summary")
				}
			}
			switch {
			case asJSON:
				_ = a.printJSON(sum)
			case len(sum.Jobs) == 0 && orchestration.ExitCode(err) == orchestration.ExitUsage:
				// Nothing ran: the error, on stderr, says it all, once.
			default:
				a.printSummary(sum)
			}
			// The error goes to stderr as well as the summary on stdout: a
			// scheduler's task log often keeps only stderr.
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&date, "date", "", "logical date YYYY-MM-DD (default: yesterday in the business time zone)")
	f.BoolVar(&force, "force", false, "rerun jobs that already succeeded for the date")
	f.BoolVar(&withUpstream, "with-upstream", false, "also run the jobs the named jobs need")
	f.StringVar(&summaryPath, "summary-json", "", "write a machine-readable run summary to this file, even when the run fails")
	f.BoolVar(&asJSON, "json", false, "print the run summary as one JSON object on stdout")
	return c
}

// run executes the DAG and always returns a summary, even for failures
// that happen before any job starts (lock held, bad config).
func (a *app) run(cmd *cobra.Command, date time.Time, targets []string, opt orchestration.RunOptions) (*orchestration.Summary, error) {
	ctx := cmd.Context()
	opt.Targets = targets
	now := time.Now()
	base := orchestration.Env{Date: date, RunID: orchestration.NewRunID(now), Config: &a.cfg}
	early := func(err error) (*orchestration.Summary, error) {
		s := &orchestration.Summary{RunID: base.RunID, LogicalDate: base.DateString(), Command: opt.Command,
			StartedAt: now.UTC(), EndedAt: time.Now().UTC(), Jobs: []orchestration.JobResult{}}
		s.ExitCode = orchestration.ExitCode(err)
		s.Status = map[int]string{orchestration.ExitTemporary: "temporary_failure", orchestration.ExitUsage: "usage_error"}[s.ExitCode]
		if s.Status == "" {
			s.Status = orchestration.StatusFailed
		}
		s.Error = err.Error()
		s.DurationS = s.EndedAt.Sub(s.StartedAt).Seconds()
		return s, err
	}
	sqls, err := a.sqlSet()
	if err != nil {
		return early(err)
	}
	dag, err := a.dag(sqls)
	if err != nil {
		return early(err)
	}
	sel, err := dag.Select(targets, opt.WithUpstream)
	if err != nil {
		return early(err)
	}
	if a.shard.Sharded() && a.flagMerged == "" && slices.Contains(sel, "ingest") {
		return early(orchestration.Usage("a shard's ingest copies its slice of the night from the merged warehouse: " +
			"give --merged DIR, the warehouse `parcours merge --stage route` loaded (see parcours merge --help)"))
	}
	sess, err := a.open(ctx, false, opt.Command)
	if err != nil {
		return early(err)
	}
	defer sess.Close()
	if err := a.sizeMemory(ctx, sess.wh, date); err != nil {
		return early(err)
	}
	progress := filepath.Join(a.cfg.Warehouse, progressFile)
	defer os.Remove(progress)
	base.WH = sess.wh
	base.Shard = a.shard
	base.MergedDir = a.flagMerged
	r := &orchestration.Runner{DAG: dag, Ledger: orchestration.NewLedger(sess.wh.DB, sqls), Log: a.log,
		OnProgress: func(s *orchestration.Summary) { _ = s.WriteFile(progress) }}
	stop := a.liveProgress(r) // on a terminal: the logger writes above a progress line
	defer stop()
	base.Log = a.log
	a.log.Info().Str("run_id", base.RunID).Str("date", base.DateString()).Str("warehouse", a.cfg.Warehouse).
		Msg("run started")
	sum, err := r.Run(ctx, base, opt)
	a.log.Info().Str("run_id", base.RunID).Str("status", sum.Status).Int("exit_code", sum.ExitCode).
		Float64("duration_s", sum.DurationS).Msg("run finished")
	return sum, err
}

// sizeMemory sizes DuckDB's memory by the night's input
// (ingest.SizeMemory) unless the config sets a limit. A shard keeps the
// machine's share: its input is its slice of the merged warehouse's.
func (a *app) sizeMemory(ctx context.Context, wh *warehouse.Warehouse, date time.Time) error {
	if a.cfg.DuckDB.MemoryLimit != "" || a.shard.Sharded() {
		return nil
	}
	return ingest.SizeMemory(ctx, wh, a.cfg.Input, date, a.log)
}

// dag is the nightly DAG, or a shard's (orchestration.ShardJobs) with --shard.
func (a *app) dag(sqls *sqlfs.Set) (*orchestration.DAG, error) {
	all := jobs.All()
	if a.shard.Sharded() {
		var err error
		if all, err = orchestration.ShardJobs(all); err != nil {
			return nil, err
		}
	}
	return orchestration.NewDAG(all, sqls)
}

func (a *app) printSummary(s *orchestration.Summary) {
	rows := make([][]string, 0, len(s.Jobs))
	var bad []bool // rows to colour on a terminal
	for _, j := range s.Jobs {
		note := j.Error
		if note == "" {
			note = j.Reason
		}
		rows = append(rows, []string{j.Job, j.Status, fmt.Sprint(j.Attempt), fmt.Sprintf("%.1fs", j.DurationS),
			fmt.Sprint(j.RowsIn), fmt.Sprint(j.RowsOut), truncate(note, 100)})
		bad = append(bad, j.Status == orchestration.StatusFailed || j.Status == orchestration.StatusUpstreamFailed)
	}
	fmt.Fprintf(a.stdout, "run %s  date %s  %s (exit %d) in %.1fs\n", s.RunID, s.LogicalDate, s.Status, s.ExitCode, s.DurationS)
	if len(rows) == 0 {
		if s.Error != "" {
			fmt.Fprintf(a.stdout, "error: %s\n", s.Error)
		}
		return
	}
	var b bytes.Buffer
	printTable(&b, []string{"JOB", "STATUS", "ATTEMPT", "TIME", "ROWS IN", "ROWS OUT", "ERROR OR REASON"}, rows)
	tty := a.stdoutIsTerminal()
	for i, line := range strings.SplitAfter(b.String(), "\n") {
		if tty && i > 0 && i <= len(bad) && bad[i-1] {
			line = "\x1b[31m" + strings.TrimSuffix(line, "\n") + "\x1b[0m\n"
		}
		fmt.Fprint(a.stdout, line)
	}
	// Where the night's shareable results are.
	for _, j := range s.Jobs {
		if j.Status != orchestration.StatusSucceeded {
			continue
		}
		switch j.Job {
		case "export":
			fmt.Fprintf(a.stdout, "exported: %s\n", filepath.Join(a.cfg.ExportDir, "cold"))
		case "report":
			if d, err := time.Parse(time.DateOnly, s.LogicalDate); err == nil {
				fmt.Fprintf(a.stdout, "report:   %s\n", report.Path(a.cfg.ExportDir, d))
			}
		}
	}
}

// stdoutIsTerminal reports whether a person is reading the output.
func (a *app) stdoutIsTerminal() bool {
	f, ok := a.stdout.(*os.File)
	return ok && logging.IsTerminal(f)
}

func (a *app) jobsCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "jobs",
		Short: "List the jobs of the nightly DAG, in run order, with what each needs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sqls, err := a.sqlSet()
			if err != nil {
				return err
			}
			dag, err := a.dag(sqls)
			if err != nil {
				return err
			}
			type row struct {
				Job   string   `json:"job"`
				Needs []string `json:"needs"`
				After []string `json:"after"`    // runs after them, even if they failed
				SQL   []string `json:"sql"`      // the files it runs sections of
				Refs  []string `json:"sections"` // file#section, each once
				Doc   string   `json:"doc"`
			}
			var out []row
			for _, n := range dag.Order() {
				j, _ := dag.Job(n)
				s := j.Spec()
				needs := s.Needs
				if needs == nil {
					needs = []string{}
				}
				after := s.After
				if after == nil {
					after = []string{}
				}
				files, refs := sqlOf(s.SQL)
				out = append(out, row{Job: n, Needs: needs, After: after, SQL: files, Refs: refs, Doc: s.Doc})
			}
			if asJSON {
				return a.printJSON(map[string]any{"jobs": out})
			}
			var rows [][]string
			for i, r := range out {
				needs := strings.Join(r.Needs, ", ")
				if len(r.After) > 0 {
					needs = strings.TrimPrefix(needs+"; after "+strings.Join(r.After, ", "), "; ")
				}
				if needs == "" {
					needs = "-"
				}
				rows = append(rows, []string{fmt.Sprint(i + 1), r.Job, needs, r.Doc})
			}
			printTable(a.stdout, []string{"#", "JOB", "NEEDS", "WHAT IT DOES"}, rows)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	return c
}

func (a *app) statusCommand() *cobra.Command {
	var date string
	var limit int
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the run ledger: each job's attempts, status, rows and errors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var d *time.Time
			if date != "" {
				t, err := a.parseDate(date)
				if err != nil {
					return err
				}
				d = &t
			}
			sess, err := a.open(cmd.Context(), true, "parcours status")
			if err != nil {
				if warehouse.IsLocked(err) {
					return a.statusInProgress(err, asJSON)
				}
				return err
			}
			defer sess.Close()
			l := orchestration.NewLedger(sess.wh.DB, sess.wh.SQL)
			entries, err := l.List(cmd.Context(), d, limit)
			if err != nil {
				return err
			}
			files, err := ingestFiles(cmd.Context(), sess.wh, d)
			if err != nil {
				return err
			}
			syncQ, err := sess.wh.SQL.Section("ops.sync_runs.sql", "recent")
			if err != nil {
				return err
			}
			var ds any
			if d != nil {
				ds = d.Format(time.DateOnly)
			}
			syncRuns, err := warehouse.QueryMaps(cmd.Context(), sess.wh.DB, syncQ, sql.Named("date", ds), sql.Named("limit", limit))
			if err != nil {
				return fmt.Errorf("sync log: %w", err)
			}
			if syncRuns == nil {
				syncRuns = []map[string]any{}
			}
			if asJSON {
				if entries == nil {
					entries = []orchestration.Entry{}
				}
				return a.printJSON(map[string]any{"runs": entries, "ingest": files, "sync_runs": syncRuns})
			}
			if len(entries) == 0 {
				if d != nil {
					fmt.Fprintf(a.stdout, "no run recorded for %s\n", d.Format(time.DateOnly))
				} else {
					fmt.Fprintln(a.stdout, "no runs recorded yet")
				}
				return nil
			}
			var rows [][]string
			for _, e := range entries {
				rows = append(rows, []string{e.LogicalDate, e.Job, e.Status, fmt.Sprint(e.Attempt),
					e.StartedAt.Local().Format("2006-01-02 15:04:05"), fmt.Sprintf("%.1fs", e.DurationS),
					fmt.Sprint(e.RowsIn), fmt.Sprint(e.RowsOut), e.RunID, truncate(e.Error, 80)})
			}
			printTable(a.stdout, []string{"DATE", "JOB", "STATUS", "ATTEMPT", "STARTED", "TIME", "ROWS IN", "ROWS OUT", "RUN", "ERROR OR REASON"}, rows)
			if len(files) > 0 {
				fmt.Fprintln(a.stdout)
				var frows [][]string
				for _, f := range files {
					frows = append(frows, []string{f.Source, fmt.Sprint(f.Files), fmt.Sprint(f.Read), fmt.Sprint(f.Loaded),
						fmt.Sprint(f.Quarantined), fmt.Sprint(f.Duplicates), f.Problems})
				}
				printTable(a.stdout, []string{"SOURCE", "FILES", "READ", "LOADED", "QUARANTINED", "RE-DELIVERED", "PROBLEMS"}, frows)
			}
			if len(syncRuns) > 0 {
				fmt.Fprintln(a.stdout)
				printMaps(a.stdout, append([]string{"date"}, logColumns()...), syncRuns)
			}
			return nil
		},
	}
	c.Flags().StringVar(&date, "date", "", "only this logical date")
	c.Flags().IntVar(&limit, "limit", 50, "show at most this many ledger rows")
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	return c
}

// statusInProgress reports a run holding the warehouse, from the live
// summary it keeps beside the lock.
func (a *app) statusInProgress(lockErr error, asJSON bool) error {
	var live *orchestration.Summary
	if b, err := os.ReadFile(filepath.Join(a.cfg.Warehouse, progressFile)); err == nil {
		live = &orchestration.Summary{}
		if json.Unmarshal(b, live) != nil {
			live = nil
		}
	}
	if asJSON {
		return a.printJSON(map[string]any{"in_progress": true, "holder": lockErr.Error(), "progress": live})
	}
	fmt.Fprintf(a.stdout, "a run is in progress: %v\n", lockErr)
	if live != nil {
		a.printSummary(live)
	}
	return nil
}

// sqlOf lists the files and the sections of refs, sorted, each once.
func sqlOf(refs []sqlfs.Ref) (files, sections []string) {
	seenF, seenR := map[string]bool{}, map[string]bool{}
	files, sections = []string{}, []string{}
	for _, r := range refs {
		if !seenF[r.File] {
			seenF[r.File] = true
			files = append(files, r.File)
		}
		if !seenR[r.String()] {
			seenR[r.String()] = true
			sections = append(sections, r.String())
		}
	}
	sort.Strings(files)
	sort.Strings(sections)
	return files, sections
}
