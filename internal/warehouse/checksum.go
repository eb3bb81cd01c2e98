package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Checksum is an order-independent fingerprint of a table's rows.
type Checksum struct {
	Rows int64
	Hash string
}

// TableChecksum fingerprints a table's content, ignoring the columns named
// in exclude (run ids, load timestamps): two tables with the same rows in
// any order have the same checksum. Tests use it to prove reruns and
// shard merges change nothing.
func TableChecksum(ctx context.Context, db *sql.DB, table string, exclude ...string) (Checksum, error) {
	schema, name, ok := strings.Cut(table, ".")
	catalog := ""
	if !ok {
		schema, name = "main", table
	}
	if schema == "cold" {
		catalog, schema = schema, "main"
	}
	skip := map[string]bool{}
	for _, e := range exclude {
		skip[e] = true
	}
	q := "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
	args := []any{schema, name}
	if catalog != "" {
		q += " AND table_catalog = ?"
		args = append(args, catalog)
	}
	rows, err := db.QueryContext(ctx, q+" ORDER BY ordinal_position", args...)
	if err != nil {
		return Checksum{}, err
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return Checksum{}, err
		}
		if !skip[c] {
			cols = append(cols, `"`+c+`"`)
		}
	}
	rows.Close()
	if len(cols) == 0 {
		return Checksum{}, fmt.Errorf("checksum %s: no such table or no columns", table)
	}
	var c Checksum
	var h sql.NullString
	err = db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*), CAST(coalesce(bit_xor(hash(%s)), 0) AS VARCHAR) FROM %s",
		strings.Join(cols, ", "), table)).Scan(&c.Rows, &h)
	c.Hash = h.String
	return c, err
}
