package main

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/sources/draft"
)

func (a *app) sourcesInitCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init FILE...",
		Short: "Draft sources from export files: a commented YAML mapping, guessed from their first rows",
		Long: `Reads the first rows of each file (DuckDB's CSV sniffer for the delimiter,
quote and header; the bytes for compression and encoding), guesses the
kind each file most looks like, maps its columns onto the kind's canonical
fields and identifiers by name and by content (emails, phones, amounts,
timestamps and their layout), and prints a commented sources: list for
parcours.yaml. Files in a standard format get their preset (segment, ga4,
shopify_orders, tcf_consents). Edit the draft where its comments say, then
run parcours sources check.`,
		Example: "  parcours sources init exports/2026-11-22/*.csv > parcours.yaml",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sqls, err := a.sqlSet()
			if err != nil {
				return err
			}
			db, err := sql.Open("duckdb", "")
			if err != nil {
				return err
			}
			defer db.Close()
			var drafts []draft.Draft
			var failed []string
			names := map[string]int{}
			for _, f := range args {
				s, err := draft.Inspect(cmd.Context(), sqls, db, f)
				if err != nil {
					failed = append(failed, fmt.Sprintf("%s: %v", filepath.Base(f), err))
					continue
				}
				d := draft.Guess(s, a.cfg.Region)
				if n := names[d.Source.Name]; n > 0 {
					d.Source.Name = fmt.Sprintf("%s_%d", d.Source.Name, n+1)
				}
				names[d.Source.Name]++
				drafts = append(drafts, d)
			}
			if len(drafts) > 0 {
				out := draft.Render(drafts)
				if _, err := sources.Parse(out); err != nil {
					return fmt.Errorf("the draft does not parse (a bug): %w", err)
				}
				if _, err := a.stdout.Write(out); err != nil {
					return err
				}
			}
			if len(failed) > 0 {
				return errors.New("could not read " + strings.Join(failed, "; "))
			}
			return nil
		},
	}
}
