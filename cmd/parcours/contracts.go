package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/sources"
)

func (a *app) contractsCommand() *cobra.Command {
	var asJSON, markdown bool
	c := &cobra.Command{
		Use:   "contracts",
		Short: "Print the contract of every kind of source (canonical fields, types, required fields, accepted values, what it feeds)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ks := sources.Kinds()
			if asJSON {
				return a.printJSON(map[string]any{"kinds": ks, "identifier_types": sources.BuiltinIDTypes()})
			}
			fmt.Fprintln(a.stdout, contractsPreamble)
			fmt.Fprintln(a.stdout)
			for _, k := range ks {
				ids := idList(k)
				if markdown {
					fmt.Fprintf(a.stdout, "#### `%s` (%s)\n\n%s Feeds %s. Key: %s.%s\n\n", k.Name, k.Delivery, k.Doc, k.Feeds,
						strings.Join(k.Key, ", "), ids)
					fmt.Fprintln(a.stdout, "| field | type | required | accepted values / notes |")
					fmt.Fprintln(a.stdout, "| --- | --- | --- | --- |")
					for _, col := range k.Columns {
						req := ""
						if col.Required {
							req = "yes"
						}
						fmt.Fprintf(a.stdout, "| %s | %s | %s | %s |\n", col.Name, col.Type, req, strings.ReplaceAll(notes(col), "|", "\\|"))
					}
					for _, ch := range k.Checks {
						fmt.Fprintf(a.stdout, "\nRule: %s.\n", ch.Reason)
					}
					fmt.Fprintln(a.stdout)
					continue
				}
				fmt.Fprintf(a.stdout, "%s  (%s, key %s)%s\n  %s\n  feeds %s\n", k.Name, k.Delivery, strings.Join(k.Key, "+"), ids, k.Doc, k.Feeds)
				var rows [][]string
				for _, col := range k.Columns {
					req := ""
					if col.Required {
						req = "required"
					}
					rows = append(rows, []string{"  " + col.Name, string(col.Type), req, notes(col)})
				}
				printTable(a.stdout, []string{"  FIELD", "TYPE", "", "NOTES"}, rows)
				fmt.Fprintln(a.stdout)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	c.Flags().BoolVar(&markdown, "markdown", false, "print as Markdown tables (the data contracts section of jobs/ingest/README.md)")
	return c
}

// contractsPreamble says what every kind shares.
const contractsPreamble = "Identifier types: `customer_id` (the CRM id), `email`, `phone` (E.164), `loyalty_card`, `device_id`, `cookie_id`, " +
	"or a type of your own (`account_id`), stitched as a strong identifier right after `customer_id`. " +
	"Deliveries: `event` (a row loads once whatever the number of re-deliveries), `upsert` (a later delivery of a key replaces it), " +
	"`snapshot` (the newest file replaces the table)."

// idList names the identifiers a kind carries in its own fields.
func idList(k sources.Kind) string {
	if k.Subject {
		return " Its subject (subject_id of type subject_type) is an identifier."
	}
	if len(k.IDs) == 0 {
		return ""
	}
	var parts []string
	for _, id := range k.IDs {
		parts = append(parts, fmt.Sprintf("%s (%s)", id.Select, id.Type))
	}
	return " Identifiers in its fields: " + strings.Join(parts, ", ") + "."
}

func notes(col sources.Column) string {
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
	if col.Email {
		parts = append(parts, "an email address")
	}
	if col.EventTime {
		parts = append(parts, "within the plausible window")
	}
	if col.Personal {
		parts = append(parts, "personal data")
	}
	if col.Doc != "" {
		parts = append(parts, col.Doc)
	}
	return strings.Join(parts, "; ")
}
