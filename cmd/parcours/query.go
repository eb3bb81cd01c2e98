package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/csvsafe"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
)

func (a *app) queryCommand() *cobra.Command {
	var format string
	var asJSON bool
	var readDirs []string
	c := &cobra.Command{
		Use:   `query "SQL"`,
		Short: "Run one ad-hoc read-only SQL statement against the warehouse (hot, with cold attached as cold.*)",
		Long: `Runs exactly one read-only statement (SELECT, WITH, FROM, VALUES, DESCRIBE,
SHOW, SUMMARIZE, EXPLAIN) on the warehouse. The statement cannot write or
read files other than the cold exports (<export_dir>/cold/), attach
databases, load extensions or change settings: COPY, ATTACH, INSTALL, LOAD,
SET, PRAGMA and EXPORT are refused before anything runs (exit 2).
--read DIR lets the statement read files under DIR too (a folder outside
the warehouse that holds neither the key file nor the keystore).`,
		Example: `  parcours query "select count(*) from landing.web_events"
  parcours query "select * from ops.quarantine limit 5" --format csv
  parcours query "select * from 'exports/cold/kpis.parquet'"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				format = "json"
			}
			switch format {
			case "table", "csv", "json":
			default:
				return orchestration.Usage("--format %q: want table, csv or json", format)
			}
			ctx := cmd.Context()
			sess, err := a.openWith(ctx, true, "parcours query", func(o *warehouse.Options) { o.UserSQL = true })
			if err != nil {
				return err
			}
			defer sess.Close()
			allowed, err := a.readableDirs(readDirs)
			if err != nil {
				return err
			}
			conn, err := sess.wh.Sandbox(ctx, allowed)
			if err != nil {
				return err
			}
			defer conn.Close()
			if err := warehouse.CheckStatement(ctx, conn, args[0]); err != nil {
				return orchestration.Usage("query: %v", err)
			}
			rows, err := conn.QueryContext(ctx, args[0])
			if err != nil {
				return orchestration.Usage("query: %v", err)
			}
			defer rows.Close()
			cols, err := rows.Columns()
			if err != nil {
				return err
			}
			var out [][]any
			for rows.Next() {
				vals, err := warehouse.ScanValues(rows, len(cols))
				if err != nil {
					return err
				}
				out = append(out, vals)
			}
			if err := rows.Err(); err != nil {
				return orchestration.Usage("query: %v", err)
			}
			return a.printRows(format, cols, out)
		},
	}
	c.Flags().StringVarP(&format, "format", "o", "table", "table | csv | json")
	c.Flags().StringArrayVar(&readDirs, "read", nil, "also let the statement read files under this folder (repeatable; never the warehouse or key file's folder)")
	c.Flags().BoolVar(&asJSON, "json", false, "same as --format json: one JSON object {columns, rows}")
	return c
}

// readableDirs are the folders user SQL may read: the cold exports, and
// the --read folders, none of which may hold or sit inside the warehouse
// or the key file (they would let SQL read the keys and the pepper).
func (a *app) readableDirs(extra []string) ([]string, error) {
	out := []string{filepath.Join(a.cfg.ExportDir, "cold")}
	secret := []string{a.cfg.Warehouse, filepath.Dir(a.cfg.KeyFile())}
	for _, d := range extra {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, orchestration.Usage("--read %s: %v", d, err)
		}
		for _, s := range secret {
			sa, err := filepath.Abs(s)
			if err != nil {
				return nil, orchestration.Usage("--read %s: %v", d, err)
			}
			if within(sa, abs) || within(abs, sa) {
				return nil, orchestration.Usage("--read %s: it overlaps %s, which holds the warehouse or its keys", d, s)
			}
		}
		out = append(out, abs)
	}
	return out, nil
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func (a *app) printRows(format string, cols []string, rows [][]any) error {
	switch format {
	case "json":
		objs := make([]map[string]any, len(rows))
		for i, r := range rows {
			m := map[string]any{}
			for j, c := range cols {
				m[c] = jsonValue(r[j])
			}
			objs[i] = m
		}
		return a.printJSON(map[string]any{"columns": cols, "rows": objs})
	case "csv":
		// Results often end up in a spreadsheet: formula-like cells are
		// neutralised (internal/csvsafe).
		w := csvsafe.NewWriter(a.stdout)
		_ = w.Write(cols)
		for _, r := range rows {
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = text(v)
			}
			_ = w.Write(rec)
		}
		w.Flush()
		return w.Error()
	default:
		var trs [][]string
		for _, r := range rows {
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = truncate(text(v), 60)
			}
			trs = append(trs, rec)
		}
		printTable(a.stdout, cols, trs)
		fmt.Fprintf(a.stdout, "(%d rows)\n", len(rows))
		return nil
	}
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case *big.Int:
		return x.String()
	case sql.RawBytes:
		return string(x)
	case duckdb.Decimal:
		return x.String()
	default:
		if b, err := json.Marshal(x); err == nil && (len(b) > 0 && (b[0] == '{' || b[0] == '[')) {
			return string(b)
		}
		return fmt.Sprint(x)
	}
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return json.Number(x.String())
	default:
		return x
	}
}
