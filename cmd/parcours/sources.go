package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/jobs/ingest"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) sourcesCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "sources",
		Short: "Describe your extracts: list the effective sources, draft a mapping from files, check it on a date's files",
		Long: `Sources say how a company's extracts load: each names its files, their
format, and how their columns map onto a kind's canonical fields (see
parcours contracts). The built-in sources describe the sample data; the
sources: list of parcours.yaml replaces or extends them by name.

  parcours sources init exports/2026-11-22/*.csv > parcours.yaml   # a draft, guessed from the files
  parcours sources check --date 2026-11-22                         # what would load, be filtered, be quarantined
  parcours sources list                                            # the effective sources`,
	}
	c.AddCommand(a.sourcesListCommand(), a.sourcesCheckCommand(), a.sourcesInitCommand())
	return c
}

func (a *app) sourcesListCommand() *cobra.Command {
	var asJSON, asYAML bool
	c := &cobra.Command{
		Use:   "list",
		Short: "Print the effective sources: the built-in ones with the configuration's applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			srcs, err := sources.Effective(a.cfg.Sources)
			if err != nil {
				return orchestration.Usage("%v", err)
			}
			if asJSON || asYAML {
				var out []sources.Source
				for _, r := range srcs {
					s := r.Source
					s.Preset = "" // applied: what is printed is what loads
					s.Kind = r.Kind.Name
					if s.Format != sources.CSV {
						// CSV dialect defaults a JSON or Parquet source
						// would refuse when read back.
						s.Delimiter, s.Quote, s.Escape = "", "", ""
						if s.Format == sources.Parquet {
							s.Encoding = ""
						}
					}
					out = append(out, s)
				}
				if asJSON {
					return a.printJSON(map[string]any{"sources": out})
				}
				enc := yaml.NewEncoder(a.stdout)
				enc.SetIndent(2)
				defer enc.Close()
				return enc.Encode(map[string]any{"sources": out})
			}
			var rows [][]string
			for _, r := range srcs {
				origin := "config"
				switch {
				case r.Builtin:
					origin = "built-in"
				case r.Preset != "":
					origin = "preset " + r.Preset
				}
				ret := ""
				if r.RetentionMonths > 0 {
					ret = fmt.Sprintf("%d months", r.RetentionMonths)
				}
				rows = append(rows, []string{r.Name, r.Kind.Name, r.Files, string(r.Format), origin, ret})
			}
			printTable(a.stdout, []string{"SOURCE", "KIND", "FILES", "FORMAT", "FROM", "RETENTION"}, rows)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the sources as one JSON object")
	c.Flags().BoolVar(&asYAML, "yaml", false, "print the sources as YAML, in the form of parcours.yaml's sources: list")
	return c
}

func (a *app) sourcesCheckCommand() *cobra.Command {
	var date, only string
	var asJSON bool
	c := &cobra.Command{
		Use:   "check",
		Short: "Dry run: load a date's files into a throwaway warehouse and say what would load, be filtered or quarantined, and why",
		Long: `Runs the real loader on the files of one date folder (default: the newest)
into a throwaway warehouse, deleted afterwards; the warehouse is not
touched. Per source: the files matched, rows that would load, be filtered
(where:) or quarantined (by reason, with three example lines), identifiers
found per type, and a sample of mapped rows with personal data masked.
Re-deliveries of rows an earlier night loaded are not known to a dry run.
Exit 0 when every file would load, 1 when a file would fail or a source be
refused, 2 for a mapping that cannot work.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := a.checkSources(cmd.Context(), date, only)
			if rep == nil {
				return err
			}
			if asJSON {
				if perr := a.printJSON(rep); perr != nil {
					return perr
				}
			} else {
				a.printCheck(rep)
			}
			return err
		},
	}
	c.Flags().StringVar(&date, "date", "", "date folder to check YYYY-MM-DD (default: the newest in the input folder)")
	c.Flags().StringVar(&only, "source", "", "check only this source")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	return c
}

// checkSources resolves the date (default: the newest folder) and runs
// ingest's dry run on it.
func (a *app) checkSources(ctx context.Context, date, only string) (*ingest.CheckReport, error) {
	var d time.Time
	var err error
	if date != "" {
		if d, err = a.parseDate(date); err != nil {
			return nil, err
		}
	} else {
		all, err := ingest.Folders(a.cfg.Input)
		if err != nil {
			return nil, orchestration.Usage("%v", err)
		}
		if len(all) == 0 {
			return nil, fmt.Errorf("%w: no date folder (YYYY-MM-DD) in %s", orchestration.ErrNothingToDo, a.cfg.Input)
		}
		d = all[len(all)-1]
	}
	sqls, err := a.sqlSet()
	if err != nil {
		return nil, err
	}
	return ingest.Check(ctx, a.cfg, sqls, d, only)
}

func (a *app) printCheck(rep *ingest.CheckReport) {
	w := a.stdout
	fmt.Fprintf(w, "Dry run of %s/%s (nothing written to the warehouse)\n", rep.Input, rep.Date)
	if len(rep.Sources) == 0 {
		fmt.Fprintln(w, "\nNo source matches a file of this folder.")
	}
	for _, s := range rep.Sources {
		fmt.Fprintf(w, "\n%s (%s)\n", s.Name, s.Kind)
		if len(s.Files) == 0 {
			fmt.Fprintln(w, "  no file")
			continue
		}
		for _, f := range s.Files {
			line := fmt.Sprintf("  %s: %s, %d rows", f.File, f.Status, f.Read)
			if f.Error != "" {
				line += ": " + f.Error
			}
			fmt.Fprintln(w, line)
			if len(f.Extra) > 0 {
				fmt.Fprintf(w, "    columns no mapping reads (kept in _extra): %s\n", strings.Join(f.Extra, ", "))
			}
		}
		fmt.Fprintf(w, "  rows: %d read, %d would load, %d filtered, %d quarantined, %d re-delivered\n",
			s.Read, s.Loaded, s.Filtered, s.Quarantined, s.Duplicates)
		for _, q := range s.Reasons {
			fmt.Fprintf(w, "  quarantined %d: %s (e.g. %s)\n", q.Rows, q.Reason, strings.Join(q.Examples, ", "))
		}
		var nulled []string
		for why, n := range s.Nulled {
			nulled = append(nulled, fmt.Sprintf("%s (%d)", why, n))
		}
		sort.Strings(nulled)
		for _, n := range nulled {
			fmt.Fprintf(w, "  values dropped, rows kept: %s\n", n)
		}
		if len(s.IDs) > 0 {
			var ids []string
			for _, id := range s.IDs {
				ids = append(ids, fmt.Sprintf("%s %d (%d distinct)", id.Type, id.Values, id.Distinct))
			}
			fmt.Fprintf(w, "  identifiers: %s\n", strings.Join(ids, ", "))
		}
		for i, row := range s.Sample {
			keys := make([]string, 0, len(row))
			for k := range row {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var kv []string
			for _, k := range keys {
				kv = append(kv, fmt.Sprintf("%s=%v", k, row[k]))
			}
			fmt.Fprintf(w, "  sample %d: %s\n", i+1, strings.Join(kv, " "))
		}
	}
	if len(rep.Unmatched) > 0 {
		fmt.Fprintf(w, "\nFiles no source matches (not loaded): %s\n", strings.Join(rep.Unmatched, ", "))
	}
	if rep.Error != "" {
		fmt.Fprintf(w, "\nWould fail: %s\n", rep.Error)
	}
}
