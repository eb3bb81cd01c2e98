package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	sqlfs "github.com/parcours/parcours/sql"
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
	// The statements come from the embedded files: tests call this with a
	// bare database handle, and no sql_dir applies to them.
	set, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		return Checksum{}, err
	}
	q, err := set.Section("_engine.sql", "checksum_columns")
	if err != nil {
		return Checksum{}, err
	}
	rows, err := Query(ctx, db, q, sql.Named("schema", schema), sql.Named("name", name), sql.Named("catalog", catalog))
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
			cols = append(cols, sqlfs.QuoteIdent(c))
		}
	}
	rows.Close()
	if len(cols) == 0 {
		return Checksum{}, fmt.Errorf("checksum %s: no such table or no columns", table)
	}
	if q, err = set.Section("_engine.sql", "checksum"); err != nil {
		return Checksum{}, err
	}
	q = strings.NewReplacer("{{columns}}", strings.Join(cols, ", "), "{{table}}", table).Replace(q)
	var c Checksum
	var h sql.NullString
	err = db.QueryRowContext(ctx, q).Scan(&c.Rows, &h)
	c.Hash = h.String
	return c, err
}
