package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"

	"github.com/parcours/parcours/orchestration"
)

func (a *app) queryCommand() *cobra.Command {
	var format string
	var asJSON bool
	c := &cobra.Command{
		Use:   `query "SQL"`,
		Short: "Run ad-hoc read-only SQL against the warehouse (hot, with cold attached as cold.*)",
		Example: `  parcours query "select count(*) from landing.web_events"
  parcours query "select * from ops.quarantine limit 5" --format csv`,
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
			sess, err := a.open(cmd.Context(), true, "parcours query")
			if err != nil {
				return err
			}
			defer sess.Close()
			rows, err := sess.wh.DB.QueryContext(cmd.Context(), args[0])
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
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
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
	c.Flags().StringVar(&format, "format", "table", "table | csv | json")
	c.Flags().BoolVar(&asJSON, "json", false, "same as --format json: one JSON object {columns, rows}")
	return c
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
		w := csv.NewWriter(a.stdout)
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
