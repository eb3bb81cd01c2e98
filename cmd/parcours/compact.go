package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/warehouse"
)

// compactCommand gives a warehouse's free blocks back to the file system.
func (a *app) compactCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "compact",
		Short: "Give back the disk a warehouse no longer uses and re-sort the hot facts (after a catch-up, a backfill, or months of nights)",
		Long: `DuckDB reuses the space of deleted rows but never returns it to the file
system: after a catch-up load (months of extracts in one night) hot.duckdb
keeps the size of that landing although purge emptied it. compact rewrites
hot.duckdb and cold.duckdb without their free blocks, and puts the hot
fact tables back in the order a catch-up writes them (month, customer,
time): nights append one day each, and after months the purge and
erasures read customer keys several times slower. It takes the warehouse
lock (exit 75 while a run holds it), needs free disk for the hot fact
tables it re-sorts and the live data it copies, and leaves the old file
whole if it is interrupted. Run it after a catch-up or a backfill, and
every few months of nights.`,
		Example: `  parcours compact --warehouse /var/lib/parcours/warehouse`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lock, err := warehouse.AcquireLock(a.cfg.Warehouse, true, "compact")
			if err != nil {
				return err // a held lock exits 75 (orchestration.IsTemporary)
			}
			defer lock.Release()
			sqls, err := a.sqlSet()
			if err != nil {
				return err
			}
			files, err := warehouse.Compact(cmd.Context(), a.cfg.Warehouse, a.cfg.DuckDB, sqls)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(map[string]any{"files": files})
			}
			for _, f := range files {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %.1f MB -> %.1f MB (%d of %d blocks were free)\n",
					f.File, float64(f.Before)/1e6, float64(f.After)/1e6, f.FreeBlocks, f.TotalBlocks)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print what was compacted as one JSON object")
	return c
}
