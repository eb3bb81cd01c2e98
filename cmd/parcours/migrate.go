package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/warehouse"
)

func (a *app) migrateCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the warehouse's schema to this parcours' version (any command that writes does it too)",
		Long: `Bring the warehouse's schema to the version this parcours knows, running
the migrations (sql/migrate.NNNN.*.sql) it has not had, each in its own
transaction with its version (ops.meta schema_version), so an interrupted
migration resumes where it stopped. Any command that writes migrates the
same way; read-only commands (query, status) on an older warehouse exit 2
and name this command. A warehouse made by a newer parcours is refused
(exit 2). It takes the warehouse lock (exit 75 while a run holds it).`,
		Example: `  parcours migrate --warehouse /var/lib/parcours/warehouse`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open(cmd.Context(), false, "migrate")
			if err != nil {
				return err
			}
			defer s.Close()
			latest, err := warehouse.SchemaVersion(s.wh.SQL)
			if err != nil {
				return err
			}
			ran := []string{}
			for _, m := range s.wh.Migrated {
				ran = append(ran, m.File)
			}
			if asJSON {
				return a.printJSON(map[string]any{"schema_version": latest, "migrations": ran})
			}
			if len(ran) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "schema version %d: nothing to migrate\n", latest)
				return nil
			}
			for _, f := range ran {
				fmt.Fprintf(cmd.OutOrStdout(), "ran %s\n", f)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schema version %d\n", latest)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the version and the migrations run as one JSON object")
	return c
}
