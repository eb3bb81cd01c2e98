package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/activate"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) activateCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "activate",
		Short: "Push segments and triggers to marketing destinations: plan, then apply",
		Long: `Activation runs in two steps, both in the nightly DAG (activate_plan, then
activate_apply). "plan" computes, without any network call, what each
destination configured under activation.destinations gains and loses, after
the consent, suppression and frequency-cap gates, and writes the exact
payload files it would send under activation.dir. "apply" sends exactly
those files (and re-sends batches an earlier apply left dead); re-applying a
date sends nothing. Exit 75 when a destination failed temporarily (its
batches are dead letters the next apply re-sends), after the others ran.`,
	}
	c.AddCommand(a.activateStep("plan", "activate_plan", "Plan what each destination gains and loses, and write the payloads (no network)"),
		a.activateStep("apply", "activate_apply", "Send the date's plan and earlier dead letters; a no-op when already sent"),
		a.activateTypes())
	return c
}

// activateTypes lists the destination types and the keys each has of its
// own (beside the common ones of activation.destinations).
func (a *app) activateTypes() *cobra.Command {
	var asJSON, markdown bool
	c := &cobra.Command{
		Use:   "types",
		Short: "List the destination types and the keys each has of its own",
		Long: `List the destination types (the type key of activation.destinations) with
the keys each connector reads beside the common ones (name, type, purpose,
mode, segments, fields, batch_size, rate and retry settings). With
--markdown, print the reference section of jobs/activate/README.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if markdown {
				return activate.WriteReference(a.stdout)
			}
			types, err := activate.Types()
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"types": types})
			}
			var rows [][]string
			for _, t := range types {
				var keys []string
				for _, k := range t.Keys {
					keys = append(keys, k.Path)
				}
				rows = append(rows, []string{t.Name, strings.Join(keys, ", "), strings.Join(t.Fields, ", ")})
			}
			printTable(a.stdout, []string{"TYPE", "OWN KEYS", "FIELDS SENT BY DEFAULT"}, rows)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	c.Flags().BoolVar(&markdown, "markdown", false, "print as Markdown tables (the destination types section of jobs/activate/README.md)")
	return c
}

func (a *app) activateStep(use, job, short string) *cobra.Command {
	var date string
	var asJSON bool
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.parseDate(date)
			if err != nil {
				return err
			}
			command := "parcours " + strings.Join(os.Args[1:], " ")
			sum, err := a.run(cmd, d, []string{job}, orchestration.RunOptions{Force: true, Command: command})
			if sum != nil && len(sum.Jobs) == 0 {
				return err // failed before the job ran: the error says why
			}
			sess, oerr := a.open(cmd.Context(), true, command)
			if oerr != nil {
				return errors.Join(err, oerr)
			}
			defer sess.Close()
			out, qerr := activationView(cmd.Context(), sess.wh, d, use)
			if qerr != nil {
				return errors.Join(err, qerr)
			}
			if asJSON {
				out["run"] = sum
				if perr := a.printJSON(out); perr != nil {
					return errors.Join(err, perr)
				}
				return err
			}
			a.printSummary(sum)
			for _, t := range []struct {
				key  string
				cols []string
			}{{"plan", planColumns()}, {"log", logColumns()}} {
				if rows, ok := out[t.key].([]map[string]any); ok && len(rows) > 0 {
					fmt.Fprintln(a.stdout)
					printMaps(a.stdout, t.cols, rows)
				}
			}
			return err
		},
	}
	c.Flags().StringVar(&date, "date", "", "logical date YYYY-MM-DD (default: yesterday in the business time zone)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as one JSON object")
	return c
}

// planColumns and logColumns are the activation views' columns, in
// display order.
func planColumns() []string {
	return []string{"destination", "segment", "audience", "upsert", "remove", "batches", "status", "excluded"}
}

func logColumns() []string {
	return []string{"phase", "destination", "planned", "sent", "accepted", "rejected", "retried", "dead_lettered",
		"excluded", "size_alerts", "duration_s", "error"}
}

// printMaps prints rows as a table of cols; NULL prints as "-".
func printMaps(w io.Writer, cols []string, rows []map[string]any) {
	var out [][]string
	for _, r := range rows {
		line := make([]string, len(cols))
		for i, c := range cols {
			if r[c] == nil {
				line[i] = "-"
			} else {
				line[i] = fmt.Sprint(r[c])
			}
		}
		out = append(out, line)
	}
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = strings.ToUpper(strings.ReplaceAll(c, "_", " "))
	}
	printTable(w, header, out)
}

// activationView reads what a plan or apply of date left in the ops
// tables: per destination and segment the planned changes and exclusions,
// and the sync log lines of the date.
func activationView(ctx context.Context, wh *warehouse.Warehouse, d time.Time, step string) (map[string]any, error) {
	ds := d.Format(time.DateOnly)
	out := map[string]any{"date": ds}
	for _, v := range []struct{ key, file, section string }{
		{"plan", "ops.activation_batches.sql", "plan_view"},
		{"log", "ops.sync_runs.sql", "step_log"},
	} {
		q, err := wh.SQL.Section(v.file, v.section)
		if err != nil {
			return nil, err
		}
		rows, err := warehouse.QueryMaps(ctx, wh.DB, q, sql.Named("date", ds), sql.Named("phase", step))
		if err != nil {
			return nil, err
		}
		out[v.key] = rows
	}
	return out, nil
}
