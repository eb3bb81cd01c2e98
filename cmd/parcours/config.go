package main

import (
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func (a *app) configCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (defaults, file, environment and flags applied)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return a.printJSON(a.cfg)
			}
			enc := yaml.NewEncoder(a.stdout)
			enc.SetIndent(2)
			defer enc.Close()
			return enc.Encode(a.cfg)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	return c
}
