package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs/ingest"
)

func (a *app) contractsCommand() *cobra.Command {
	var asJSON, markdown bool
	c := &cobra.Command{
		Use:   "contracts",
		Short: "Print the data contract of every source (columns, types, required fields, accepted values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cs := ingest.Contracts()
			if asJSON {
				return a.printJSON(map[string]any{"contracts": cs})
			}
			for _, c := range cs {
				if markdown {
					fmt.Fprintf(a.stdout, "#### `%s` (%s, %s)\n\n%s Lands in `%s`; key: %s.\n\n", c.File, c.Format, c.Kind, c.Doc, c.Table(), strings.Join(c.Key, ", "))
					fmt.Fprintln(a.stdout, "| column | type | required | accepted values / notes |")
					fmt.Fprintln(a.stdout, "| --- | --- | --- | --- |")
					for _, col := range c.Columns {
						req := ""
						if col.Required {
							req = "yes"
						}
						fmt.Fprintf(a.stdout, "| %s | %s | %s | %s |\n", col.Name, typeText(col), req, strings.ReplaceAll(notes(col), "|", "\\|"))
					}
					for _, ch := range c.Checks {
						fmt.Fprintf(a.stdout, "\nRule: %s.\n", ch.Reason)
					}
					fmt.Fprintln(a.stdout)
					continue
				}
				fmt.Fprintf(a.stdout, "%s  (%s, %s, key %s) -> %s\n", c.File, c.Format, c.Kind, strings.Join(c.Key, "+"), c.Table())
				var rows [][]string
				for _, col := range c.Columns {
					req := ""
					if col.Required {
						req = "required"
					}
					rows = append(rows, []string{"  " + col.Name, typeText(col), req, notes(col)})
				}
				printTable(a.stdout, []string{"  COLUMN", "TYPE", "", "NOTES"}, rows)
				fmt.Fprintln(a.stdout)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	c.Flags().BoolVar(&markdown, "markdown", false, "print as Markdown tables (README's data contracts section)")
	return c
}

func typeText(col ingest.Column) string {
	if col.Type == ingest.LocalTime {
		return "local timestamp `" + col.Layout + "`"
	}
	return string(col.Type)
}

func notes(col ingest.Column) string {
	var parts []string
	if len(col.Values) > 0 {
		parts = append(parts, strings.Join(col.Values, ", "))
	}
	if col.Min != nil && col.Max != nil {
		parts = append(parts, fmt.Sprintf("%v to %v", *col.Min, *col.Max))
	} else if col.Min != nil {
		parts = append(parts, fmt.Sprintf(">= %v", *col.Min))
	}
	if col.Pattern != "" {
		parts = append(parts, "format `"+col.Pattern+"`")
	}
	if col.EventTime {
		parts = append(parts, "within the plausible window")
	}
	if col.Doc != "" {
		parts = append(parts, col.Doc)
	}
	return strings.Join(parts, "; ")
}
