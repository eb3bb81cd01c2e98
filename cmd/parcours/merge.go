package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs"
	"github.com/parcours/parcours/jobs/merge"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

func (a *app) mergeCommand() *cobra.Command {
	var date, stage, summaryPath string
	var shards []string
	var force, asJSON bool
	c := &cobra.Command{
		Use:   "merge --shards DIR... [--stage route|models|publish]",
		Short: "Combine customer shards: load and route the input, train once, publish cold aggregates and segments",
		Long: `A sharded night splits the customers into n warehouses by customer_key
(parcours run nightly --shard i/n --merged W, each in its own --warehouse)
and combines them in this command's warehouse W (--warehouse, the merged one):

  1. parcours merge --stage route --shards DIR...    (loads and stitches the whole input
                                                      once, routes every fact to a shard)
  2. every shard:  parcours run nightly --shard i/n --merged W
                                                     (copies its slice, stops at merge_models)
  3. parcours merge --stage models --shards DIR...   (trains once, ships the registry)
  4. every shard:  parcours run nightly --shard i/n --merged W   (scores, stops at merge_publish)
  5. parcours merge --stage publish --shards DIR...  (cold, attribution, kpis, the purge of what
                                                      only W holds, segments, audit, export,
                                                      report; members back)
  6. every shard:  parcours run nightly --shard i/n --merged W   (triggers, activation)

A shard's ingest copies from W only its customers' facts, its share of the
facts without a customer, and the whole of the visits it counts, so its
time and memory follow its share. Cold aggregates are summed over the
shards before the k-anonymity rule is applied, so a merged cell is never
smaller than k. W keeps the identity graph, quarantine and ingest ledger,
cold tables, the model registry and its ledger; per-customer copies only
during a stage. Shard DIRs are given in shard order (shard 0 first); the
route stage accepts shards not created yet. Without --stage, the stage
still to run for the date. Exit 75 when a shard has not reached the stage
yet or is locked.`,
		Example: `  parcours merge --stage route --date 2026-11-22 --warehouse merged/ --shards s0/ s1/ s2/ s3/`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.parseDate(date)
			if err != nil {
				return err
			}
			if len(shards) == 0 {
				return orchestration.Usage("merge needs --shards DIR... (shard 0 first)")
			}
			if stage != "" && stage != orchestration.StageRoute && stage != orchestration.StageModels && stage != orchestration.StagePublish {
				return orchestration.Usage("--stage %q: want route, models or publish", stage)
			}
			command := "parcours " + strings.Join(os.Args[1:], " ")
			sum, err := a.merge(cmd.Context(), d, stage, shards, force, command)
			if summaryPath != "" {
				if werr := sum.WriteFile(summaryPath); werr != nil {
					a.log.Error().Err(werr).Msg("could not write the run summary")
				}
			}
			if asJSON {
				_ = a.printJSON(sum)
			} else {
				a.printSummary(sum)
			}
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&date, "date", "", "logical date YYYY-MM-DD (default: yesterday in the business time zone)")
	f.StringVar(&stage, "stage", "", "route | models | publish (default: the one still to run for the date)")
	f.StringSliceVar(&shards, "shards", nil, "the shard warehouses, shard 0 first (repeat or comma-separate)")
	f.BoolVar(&force, "force", false, "rerun the stage's merged jobs that already succeeded for the date")
	f.StringVar(&summaryPath, "summary-json", "", "write a machine-readable run summary to this file, even when the merge fails")
	f.BoolVar(&asJSON, "json", false, "print the run summary as one JSON object on stdout")
	return c
}

func (a *app) merge(ctx context.Context, date time.Time, stage string, dirs []string, force bool, command string) (*orchestration.Summary, error) {
	now := time.Now()
	base := orchestration.Env{Date: date, RunID: orchestration.NewRunID(now), Config: &a.cfg, Merged: true, ShardDirs: dirs}
	early := func(err error) (*orchestration.Summary, error) {
		s := &orchestration.Summary{RunID: base.RunID, LogicalDate: base.DateString(), Command: command,
			StartedAt: now.UTC(), EndedAt: time.Now().UTC(), Jobs: []orchestration.JobResult{}, Error: err.Error()}
		s.ExitCode = orchestration.ExitCode(err)
		s.Status = map[int]string{orchestration.ExitTemporary: "temporary_failure", orchestration.ExitUsage: "usage_error"}[s.ExitCode]
		if s.Status == "" {
			s.Status = orchestration.StatusFailed
		}
		return s, err
	}
	if a.shard.Sharded() {
		return early(orchestration.Usage("merge runs on the merged warehouse: drop --shard"))
	}
	sqls, err := a.sqlSet()
	if err != nil {
		return early(err)
	}
	a.role = "merged"
	sess, err := a.open(ctx, false, command)
	if err != nil {
		return early(err)
	}
	defer sess.Close()
	if err := a.sizeMemory(ctx, sess.wh, date); err != nil {
		return early(err)
	}
	ledger := orchestration.NewLedger(sess.wh.DB, sqls)
	if stage == "" {
		state, err := ledger.State(ctx, date)
		if err != nil {
			return early(err)
		}
		switch {
		case !orchestration.Done(state["route"].Status) && state["ingest"].Status != orchestration.StatusNothingToDo:
			stage = orchestration.StageRoute
		case state["finish_"+orchestration.StageModels].Status != orchestration.StatusSucceeded:
			stage = orchestration.StageModels
		default:
			stage = orchestration.StagePublish
		}
	}
	detach, err := attachShards(ctx, sess.wh, dirs, command, stage == orchestration.StageRoute)
	defer detach()
	if err != nil {
		return early(err)
	}
	dag, err := orchestration.NewDAG(merge.Jobs(jobs.All(), stage), sqls)
	if err != nil {
		return early(err)
	}
	base.WH = sess.wh
	base.Log = a.log
	r := &orchestration.Runner{DAG: dag, Ledger: ledger, Log: a.log}
	a.log.Info().Str("run_id", base.RunID).Str("date", base.DateString()).Str("stage", stage).Int("shards", len(dirs)).
		Msg("merge started")
	sum, err := r.Run(ctx, base, orchestration.RunOptions{Force: force, Command: command})
	a.log.Info().Str("run_id", base.RunID).Str("status", sum.Status).Int("exit_code", sum.ExitCode).
		Float64("duration_s", sum.DurationS).Msg("merge finished")
	return sum, err
}

// attachSQL holds the statements that attach and check the shards.
const attachSQL = "merge.attach.sql"

// attachShards locks every shard warehouse and attaches its hot store as
// shard0, shard1, ... after checking it is shard i of len(dirs) and was
// built with this warehouse's pepper. The returned func detaches and
// unlocks (safe to call after an error). With optional, a shard not
// created yet is left out (the route stage runs before the first night's
// shards).
func attachShards(ctx context.Context, wh *warehouse.Warehouse, dirs []string, command string, optional bool) (func(), error) {
	var locks []*warehouse.Lock
	var attached []string
	sections := map[string]string{}
	undo := func() {
		for _, s := range attached {
			_, _ = warehouse.ExecScript(context.WithoutCancel(ctx), wh.DB, strings.ReplaceAll(sections["detach"], "{{alias}}", sqlfs.QuoteIdent(s)))
		}
		for _, l := range locks {
			_ = l.Release()
		}
	}
	for _, name := range []string{"pepper_check", "attach", "shard_meta", "detach"} {
		q, err := wh.SQL.Section(attachSQL, name)
		if err != nil {
			return undo, err
		}
		sections[name] = q
	}
	var pepper string
	if err := warehouse.QueryRow(ctx, wh.DB, sections["pepper_check"]).Scan(&pepper); err != nil {
		return undo, fmt.Errorf("merged warehouse %s: read pepper check value: %w", wh.Dir, err)
	}
	for i, dir := range dirs {
		if !warehouse.Exists(dir) {
			if optional {
				continue
			}
			return undo, orchestration.Usage("shard %d: no warehouse at %s (run `parcours run nightly --shard %d/%d --warehouse %s` first)",
				i, dir, i, len(dirs), dir)
		}
		l, err := warehouse.AcquireLock(dir, true, command)
		if err != nil {
			return undo, orchestration.Temporary(fmt.Errorf("shard %d: %w", i, err), time.Minute)
		}
		locks = append(locks, l)
		alias := merge.Alias(i)
		attach := strings.NewReplacer("{{path}}", warehouse.Quote(warehouse.HotPath(dir)), "{{alias}}", sqlfs.QuoteIdent(alias)).
			Replace(sections["attach"])
		if _, err := warehouse.ExecScript(ctx, wh.DB, attach); err != nil {
			return undo, fmt.Errorf("shard %d: attach %s: %w", i, warehouse.HotPath(dir), err)
		}
		attached = append(attached, alias)
		var role, check string
		meta := strings.ReplaceAll(sections["shard_meta"], "{{alias}}", sqlfs.QuoteIdent(alias))
		err = warehouse.QueryRow(ctx, wh.DB, meta).Scan(&role, &check)
		if err != nil {
			return undo, fmt.Errorf("shard %d (%s): read ops.meta: %w", i, dir, err)
		}
		if want := fmt.Sprintf("%d/%d", i, len(dirs)); role != want {
			return undo, orchestration.Usage("--shards: %s is %q, but it is given as shard %s (list the shards in order, all of them)",
				dir, role, want)
		}
		if check != pepper {
			return undo, orchestration.Usage("shard %d (%s) was built with another pepper than the merged warehouse %s: "+
				"shards and their merge must share PARCOURS_PEPPER and PARCOURS_MASTER_KEY", i, dir, wh.Dir)
		}
	}
	return undo, nil
}
