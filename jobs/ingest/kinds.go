package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// lineage are the columns every landing table adds to its kind's fields:
// where a row came from, what it is a fact about, and, during ingest only,
// why it was rejected or filtered.
const lineage = `_source     VARCHAR,   -- the source that loaded the row
_file       VARCHAR,   -- extract file (relative to the input folder)
_load_date  DATE,      -- folder date of that file
_run_id     VARCHAR,
_line       BIGINT,    -- Parquet row number; text formats keep it only in quarantine
_extra      JSON,      -- columns no mapping reads, kept aside
_reasons    VARCHAR,   -- contract violations (rows with any are moved to ops.quarantine)
_field      VARCHAR,
_raw        VARCHAR,
_nulled     VARCHAR,   -- values dropped as invalid, by reason (counted in ops.ingest_files.nulled)
_filtered   BOOLEAN    -- kept out by the source's where (counted, then dropped)`

func kindFile(kind string) string { return "kind." + kind + ".sql" }

// tableDDL is the landing table of a source: its kind's fields, the
// lineage columns, and one column per identifier the source declares
// (_id0, _id1, ...: normalised by type; the kind views make them _ids).
func tableDDL(sqls *sqlfs.Set, table, kind string, ids int) (string, error) {
	cols, err := sqls.Section(kindFile(kind), "columns")
	if err != nil {
		return "", err
	}
	var idCols strings.Builder
	for k := range ids {
		fmt.Fprintf(&idCols, "\n,_id%d VARCHAR", k) // after a line that may end in a comment
	}
	// The comma on its own line: a column line may end in a comment.
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n%s\n,\n%s%s\n)", table, cols, lineage, idCols.String()), nil
}

// prepareTables creates every source's landing table, and each kind's
// empty template (the kind views read it, so a kind no source fills still
// has its columns). A landing table of an older layout is rebuilt when it
// is empty (landing is emptied at the end of every nightly run).
func prepareTables(ctx context.Context, conn *sql.Conn, sqls *sqlfs.Set, srcs []sources.Resolved) error {
	if _, err := conn.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS kind"); err != nil {
		return err
	}
	type table struct{ schema, name, ddl string }
	var tables []table
	for _, k := range sources.Kinds() {
		ddl, err := tableDDL(sqls, "kind._"+k.Name, k.Name, 0)
		if err != nil {
			return err
		}
		tables = append(tables, table{"kind", "_" + k.Name, ddl})
	}
	for _, r := range srcs {
		ddl, err := tableDDL(sqls, r.Table(), r.Kind.Name, len(r.IDs))
		if err != nil {
			return err
		}
		tables = append(tables, table{"landing", r.Name, ddl})
	}
	// Each table is created if missing, and the layout its DDL gives now is
	// made as a TEMP probe; the catalog is then read once for all of them
	// (once per table was a third of a steady night's ingest).
	for _, t := range tables {
		if _, err := conn.ExecContext(ctx, t.ddl); err != nil {
			return fmt.Errorf("create %s.%s: %w", t.schema, t.name, err)
		}
		probe := strings.Replace(t.ddl, "CREATE TABLE IF NOT EXISTS "+t.schema+"."+t.name, "CREATE OR REPLACE TEMP TABLE "+probeName(t.schema, t.name), 1)
		if _, err := conn.ExecContext(ctx, probe); err != nil {
			return err
		}
	}
	layouts, err := tableLayouts(ctx, conn)
	for _, t := range tables {
		if _, derr := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+probeName(t.schema, t.name)); derr != nil && err == nil {
			err = derr
		}
	}
	if err != nil {
		return err
	}
	for _, t := range tables {
		if layouts[t.schema+"."+t.name] == layouts["temp."+probeName(t.schema, t.name)] {
			continue
		}
		if err := rebuild(ctx, conn, t.schema, t.name, t.ddl); err != nil {
			return err
		}
	}
	return nil
}

// probeName is the TEMP table that shows the layout a table's DDL gives.
func probeName(schema, name string) string { return "probe_" + schema + "_" + name }

// tableLayouts reads each table's columns and types, in order, as one
// string per "schema.table" of the warehouse ("temp.table" for TEMP ones).
func tableLayouts(ctx context.Context, conn *sql.Conn) (map[string]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT CASE WHEN database_name = 'temp' THEN 'temp' ELSE schema_name END || '.' || table_name,
  string_agg(column_name || ' ' || data_type, ',' ORDER BY column_index)
FROM duckdb_columns() WHERE database_name IN (current_database(), 'temp') GROUP BY ALL`)
	if err != nil {
		return nil, fmt.Errorf("read table layouts: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var t, layout string
		if err := rows.Scan(&t, &layout); err != nil {
			return nil, err
		}
		out[t] = layout
	}
	return out, rows.Err()
}

// rebuild recreates a table whose columns are not those of ddl, when it
// holds no row.
func rebuild(ctx context.Context, conn *sql.Conn, schema, name, ddl string) error {
	var rows int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s.%s", schema, ident(name))).Scan(&rows); err != nil {
		return err
	}
	if rows > 0 {
		return fmt.Errorf("%s.%s holds %d rows in an older layout (an interrupted run of an earlier parcours): "+
			"finish that night with the earlier version, or empty the table, then run again", schema, name, rows)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("DROP TABLE %s.%s", schema, ident(name))); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, ddl)
	return err
}

// createViews (re)creates the kind views every later job reads: kind.<kind>
// is every source of that kind (and the kind's empty template), and
// kind.ids every identifier the rows carry, with what identity needs of
// each (when it was seen, what shows it).
func createViews(ctx context.Context, conn *sql.Conn, sqls *sqlfs.Set, srcs []sources.Resolved) error {
	// Each source as its kind shows it: its rows' key as one value
	// (_fact) and every identifier they carry (_ids), computed here rather
	// than stored with every row.
	byKind := map[string][]string{}
	for _, r := range srcs {
		exclude := ""
		if len(r.IDs) > 0 {
			var c []string
			for k := range r.IDs {
				c = append(c, fmt.Sprintf("_id%d", k))
			}
			exclude = " EXCLUDE (" + strings.Join(c, ", ") + ")"
		}
		byKind[r.Kind.Name] = append(byKind[r.Kind.Name], fmt.Sprintf("SELECT *%s, %s AS _fact, %s AS _ids FROM %s",
			exclude, keyExpr(r.DedupKey), idsView(r), r.Table()))
	}
	// order_lines first: kind.orders adds the orders they sum to.
	kinds := []string{"order_lines"}
	for _, k := range sources.KindNames() {
		if k != "order_lines" {
			kinds = append(kinds, k)
		}
	}
	var ids []string
	for _, k := range kinds {
		parts := []string{fmt.Sprintf(`SELECT *, NULL::VARCHAR AS _fact, NULL::STRUCT("type" VARCHAR, "value" VARCHAR)[] AS _ids FROM kind.%s`, ident("_"+k))}
		parts = append(parts, byKind[k]...)
		if sqls.Has(kindFile(k)) {
			if extra, err := sqls.Section(kindFile(k), "also"); err == nil {
				parts = append(parts, strings.TrimSuffix(strings.TrimSpace(extra), ";"))
			}
		}
		q := fmt.Sprintf("CREATE OR REPLACE VIEW kind.%s AS\n%s", ident(k), strings.Join(parts, "\nUNION ALL BY NAME\n"))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create view kind.%s: %w", k, err)
		}
		if q, err := sqls.Section(kindFile(k), "ids"); err == nil {
			ids = append(ids, strings.TrimSuffix(strings.TrimSpace(q), ";"))
		}
	}
	// kind.id_lists is one row per fact with its identifiers as a list
	// (links are made within a row, so identity reads them without
	// grouping the facts again); kind.ids (kind.ids.sql) is one row per
	// identifier.
	q := "CREATE OR REPLACE VIEW kind.id_lists AS\n" + strings.Join(ids, "\nUNION ALL BY NAME\n")
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create view kind.id_lists: %w", err)
	}
	view, err := sqls.Section("kind.ids.sql", "view")
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, view); err != nil {
		return fmt.Errorf("create view kind.ids: %w", err)
	}
	return nil
}

// Prepare creates the landing tables and the kind views of the configured
// sources in a warehouse that ingests nothing itself (the merged warehouse
// of customer shards).
func Prepare(ctx context.Context, wh *warehouse.Warehouse, user []sources.Source) error {
	srcs, err := sources.Effective(user)
	if err != nil {
		return err
	}
	conn, err := wh.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return prepare(ctx, conn, wh.SQL, srcs)
}

// prepare creates the landing tables and the kind views.
func prepare(ctx context.Context, conn *sql.Conn, sqls *sqlfs.Set, srcs []sources.Resolved) error {
	if err := prepareTables(ctx, conn, sqls, srcs); err != nil {
		return err
	}
	return createViews(ctx, conn, sqls, srcs)
}

// LandingDrop lists the statements that empty landing once a nightly run
// has consumed it: every source's table but reference data (snapshots)
// and marketing spend, which later runs still read.
func LandingDrop(srcs []sources.Resolved) []string {
	var out []string
	for _, r := range srcs {
		if r.Kind.Delivery == sources.Event {
			out = append(out, "DELETE FROM "+r.Table())
		}
	}
	return out
}
