package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/redact"
	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/warehouse"
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

// checkReport is what `sources check` found.
type checkReport struct {
	Date      string        `json:"date"`
	Input     string        `json:"input"`
	Sources   []sourceCheck `json:"sources"`
	Unmatched []string      `json:"unmatched_files"`
	Error     string        `json:"error,omitempty"`
}

type sourceCheck struct {
	Name        string           `json:"name"`
	Kind        string           `json:"kind"`
	Files       []fileCheck      `json:"files"`
	Read        int64            `json:"rows_read"`
	Loaded      int64            `json:"rows_loaded"`
	Filtered    int64            `json:"rows_filtered"`
	Quarantined int64            `json:"rows_quarantined"`
	Duplicates  int64            `json:"rows_duplicate"`
	Nulled      map[string]int64 `json:"values_nulled,omitempty"`
	Reasons     []reasonCheck    `json:"quarantine"`
	IDs         []idCheck        `json:"identifiers"`
	Sample      []map[string]any `json:"sample"`
}

type fileCheck struct {
	File   string   `json:"file"`
	Status string   `json:"status"`
	Read   int64    `json:"rows_read"`
	Error  string   `json:"error,omitempty"`
	Extra  []string `json:"unmapped_columns,omitempty"`
}

type reasonCheck struct {
	Field    string   `json:"field"`
	Reason   string   `json:"reason"`
	Rows     int64    `json:"rows"`
	Examples []string `json:"examples"` // file:line
}

type idCheck struct {
	Type     string `json:"type"`
	Values   int64  `json:"values"`
	Distinct int64  `json:"distinct"`
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

// checkSources runs ingest for one date into a temporary warehouse.
func (a *app) checkSources(ctx context.Context, date, only string) (*checkReport, error) {
	srcs, err := sources.Effective(a.cfg.Sources)
	if err != nil {
		return nil, orchestration.Usage("%v", err)
	}
	var d time.Time
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
	tmp, err := os.MkdirTemp("", "parcours-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cfg := a.cfg
	cfg.Warehouse = filepath.Join(tmp, "wh")
	cfg.Ingest.CatchUp = false
	sqls, err := a.sqlSet()
	if err != nil {
		return nil, err
	}
	secrets := &keys.Secrets{Pepper: keys.Random(32), MasterKey: keys.Random(32)}
	wh, err := warehouse.Open(ctx, &cfg, warehouse.Options{SQL: sqls, Secrets: secrets})
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	job := ingest.New()
	if only != "" {
		job = ingest.Only(only)
	}
	env := &orchestration.Env{Date: d, RunID: "check", Config: &cfg, WH: wh, Log: zerolog.Nop()}
	_, runErr := job.Run(ctx, env)
	if runErr != nil && (errors.Is(runErr, orchestration.ErrNothingToDo) || orchestration.ExitCode(runErr) == orchestration.ExitUsage) {
		return nil, runErr
	}
	rep := &checkReport{Date: d.Format(time.DateOnly), Input: a.cfg.Input, Unmatched: []string{}}
	if runErr != nil {
		rep.Error = redact.Text(runErr.Error())
	}
	for _, r := range srcs {
		if only != "" && r.Name != only {
			continue
		}
		sc, err := describeCheck(ctx, wh, r)
		if err != nil {
			return nil, err
		}
		if len(sc.Files) > 0 || only != "" {
			rep.Sources = append(rep.Sources, sc)
		}
	}
	q, err := wh.SQL.Section("ops.ingest_files.sql", "unmatched")
	if err != nil {
		return nil, err
	}
	rows, err := wh.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		rep.Unmatched = append(rep.Unmatched, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if runErr != nil {
		return rep, fmt.Errorf("some files would not load: %w", runErr)
	}
	return rep, nil
}

// describeCheck reads back what the dry run did with one source.
func describeCheck(ctx context.Context, wh *warehouse.Warehouse, r sources.Resolved) (sourceCheck, error) {
	sc := sourceCheck{Name: r.Name, Kind: r.Kind.Name, Files: []fileCheck{}, Reasons: []reasonCheck{}, IDs: []idCheck{}, Sample: []map[string]any{}}
	q, err := wh.SQL.Section("ops.ingest_files.sql", "check_files")
	if err != nil {
		return sc, err
	}
	rows, err := wh.DB.QueryContext(ctx, q, sql.Named("source", r.Name))
	if err != nil {
		return sc, err
	}
	for rows.Next() {
		var f fileCheck
		var loaded, filtered, quarantined, dup int64
		var extra []any
		var nulled string
		if err := rows.Scan(&f.File, &f.Status, &f.Read, &loaded, &filtered, &quarantined, &dup, &f.Error, &extra, &nulled); err != nil {
			rows.Close()
			return sc, err
		}
		for _, e := range extra {
			f.Extra = append(f.Extra, fmt.Sprint(e))
		}
		sc.Read += f.Read
		sc.Loaded += loaded
		sc.Filtered += filtered
		sc.Quarantined += quarantined
		sc.Duplicates += dup
		for why, n := range parseCounts(nulled) {
			if sc.Nulled == nil {
				sc.Nulled = map[string]int64{}
			}
			sc.Nulled[why] += n
		}
		sc.Files = append(sc.Files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sc, err
	}
	if q, err = wh.SQL.Section("ops.quarantine.sql", "check_reasons"); err != nil {
		return sc, err
	}
	rows, err = wh.DB.QueryContext(ctx, q, sql.Named("source", r.Name))
	if err != nil {
		return sc, err
	}
	for rows.Next() {
		var q reasonCheck
		var ex []any
		if err := rows.Scan(&q.Field, &q.Reason, &q.Rows, &ex); err != nil {
			rows.Close()
			return sc, err
		}
		for _, e := range ex {
			q.Examples = append(q.Examples, fmt.Sprint(e))
		}
		sc.Reasons = append(sc.Reasons, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sc, err
	}
	if len(sc.Files) == 0 || sc.Loaded == 0 {
		return sc, nil
	}
	if q, err = wh.SQL.Section("sources.check.sql", "identifiers"); err != nil {
		return sc, err
	}
	q = strings.ReplaceAll(q, "{{table}}", warehouse.QuoteIdent("kind."+r.Kind.Name))
	rows, err = warehouse.Query(ctx, wh.DB, q, sql.Named("source", r.Name))
	if err != nil {
		return sc, fmt.Errorf("sources.check.sql identifiers: %w", err)
	}
	for rows.Next() {
		var id idCheck
		if err := rows.Scan(&id.Type, &id.Values, &id.Distinct); err != nil {
			rows.Close()
			return sc, err
		}
		sc.IDs = append(sc.IDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sc, err
	}
	var fields []string
	for _, c := range r.Contract {
		fields = append(fields, warehouse.QuoteIdent(c.Name))
	}
	if q, err = wh.SQL.Section("sources.check.sql", "sample"); err != nil {
		return sc, err
	}
	q = strings.ReplaceAll(q, "{{columns}}", strings.Join(fields, ", "))
	q = strings.ReplaceAll(q, "{{table}}", warehouse.QuoteIdent(r.Table()))
	rows, err = warehouse.Query(ctx, wh.DB, q)
	if err != nil {
		return sc, fmt.Errorf("sources.check.sql sample: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]*string, len(r.Contract))
		dst := make([]any, len(vals))
		for i := range vals {
			dst[i] = &vals[i]
		}
		if err := rows.Scan(dst...); err != nil {
			return sc, err
		}
		row := map[string]any{}
		for i, c := range r.Contract {
			if vals[i] == nil {
				continue
			}
			v := *vals[i]
			if c.Personal {
				v = mask(v)
			}
			row[c.Name] = v
		}
		sc.Sample = append(sc.Sample, row)
	}
	return sc, rows.Err()
}

// mask keeps enough of personal data to recognise the mapping
// ("h***@example.fr", "+33***", "D***").
func mask(v string) string {
	r := []rune(v)
	if len(r) == 0 {
		return v
	}
	if at := strings.LastIndex(v, "@"); at > 0 {
		return string(r[0]) + "***" + v[at:]
	}
	if strings.HasPrefix(v, "+") && len(r) > 3 {
		return string(r[:3]) + "***" // the country code
	}
	return string(r[0]) + "***"
}

// parseCounts reads a JSON object of counts ({"reason": 3}).
func parseCounts(s string) map[string]int64 {
	out := map[string]int64{}
	_ = yaml.Unmarshal([]byte(s), &out) // JSON is YAML
	return out
}

func (a *app) printCheck(rep *checkReport) {
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
