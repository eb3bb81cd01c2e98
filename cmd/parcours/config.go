package main

import (
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/config"
)

func (a *app) configCommand() *cobra.Command {
	var asJSON, markdown bool
	c := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (defaults, file, environment and flags applied)",
		Long: `Print the effective configuration (defaults, file, environment and flags
applied). With --markdown, print the reference of every key instead: type,
default, environment override and what it sets (internal/config/README.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case markdown:
				return config.WriteReference(a.stdout)
			case asJSON:
				return a.printJSON(a.cfg)
			}
			enc := yaml.NewEncoder(a.stdout)
			enc.SetIndent(2)
			defer enc.Close()
			return enc.Encode(a.cfg)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	c.Flags().BoolVar(&markdown, "markdown", false, "print the reference of every key as Markdown tables (internal/config/README.md)")
	return c
}
