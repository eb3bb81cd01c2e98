package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/config"
	sqlfs "github.com/parcours/parcours/sql"
)

// Compacted is what Compact did to one store file.
type Compacted struct {
	File string `json:"file"`
	// Before and After are the file's sizes in bytes.
	Before int64 `json:"bytes_before"`
	After  int64 `json:"bytes_after"`
	// FreeBlocks were the blocks DuckDB had freed but kept in the file.
	FreeBlocks  int64 `json:"free_blocks_before"`
	TotalBlocks int64 `json:"total_blocks_before"`
}

// Compact rewrites the warehouse's store files (hot.duckdb, cold.duckdb)
// without their free blocks. DuckDB reuses the blocks that deleted rows
// free but never gives them back to the file system, so after a catch-up
// load (a year of extracts in one night) the file keeps the size of its
// landing long after purge emptied it. The caller holds the warehouse lock
// exclusively. Each file is copied with COPY FROM DATABASE into a new file
// beside it, which then replaces it by rename: a crash leaves the old file
// whole. Before the hot file is copied, its fact tables are re-sorted in
// the split's order (_engine.sql compact_recluster), which months of
// one-day batches lose.
func Compact(ctx context.Context, dir string, engine config.DuckDB, set *sqlfs.Set) ([]Compacted, error) {
	if !Exists(dir) {
		return nil, fmt.Errorf("compact %s: no hot.duckdb here", dir)
	}
	var out []Compacted
	for _, path := range []string{HotPath(dir), ColdPath(dir)} {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		c, err := compactFile(ctx, path, dir, engine, set)
		if err != nil {
			return out, fmt.Errorf("compact %s: %w", path, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func compactFile(ctx context.Context, path, dir string, engine config.DuckDB, set *sqlfs.Set) (Compacted, error) {
	c := Compacted{File: filepath.Base(path)}
	next := path + ".compact"
	// A crash during an earlier compaction leaves its half-written copy.
	for _, p := range []string{next, next + ".wal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return c, err
		}
	}
	if err := makePrivate(filepath.Join(dir, "tmp")); err != nil {
		return c, err
	}
	// An in-memory engine that attaches the old and the new file.
	connector, err := duckdb.NewConnector("?"+engineParams(dir, engine, false).Encode(), nil)
	if err != nil {
		return c, err
	}
	db := sql.OpenDB(connector)
	err = copyDatabase(ctx, db, set, path, next, path == HotPath(dir), &c)
	db.Close()
	connector.Close()
	if err != nil {
		_ = os.Remove(next)
		return c, err
	}
	// Detaching checkpointed both files. A WAL left beside the old file
	// would be replayed onto the new one: refuse rather than corrupt.
	for _, p := range []string{path + ".wal", next + ".wal"} {
		if _, err := os.Stat(p); err == nil {
			_ = os.Remove(next)
			return c, fmt.Errorf("%s still exists after checkpoint; the file was left as it was", p)
		}
	}
	if err := syncFile(next); err != nil {
		return c, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return c, err
	}
	c.Before = st.Size()
	if err := os.Chmod(next, PrivateFile); err != nil {
		return c, err
	}
	if err := os.Rename(next, path); err != nil {
		return c, err
	}
	if err := syncFile(filepath.Dir(path)); err != nil {
		return c, err
	}
	if st, err = os.Stat(path); err != nil {
		return c, err
	}
	c.After = st.Size()
	return c, nil
}

// copyDatabase copies the file at path into next; for the hot file (hot),
// the fact tables are first put back in the split's order.
func copyDatabase(ctx context.Context, db *sql.DB, set *sqlfs.Set, path, next string, hot bool, c *Compacted) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	vars := strings.NewReplacer("{{path}}", Quote(path), "{{next}}", Quote(next))
	for _, section := range []string{"compact_open", "compact_size", "compact_recluster", "compact_copy"} {
		q, err := set.Section("_engine.sql", section)
		if err != nil {
			return err
		}
		q = vars.Replace(q)
		switch section {
		case "compact_size":
			err = conn.QueryRowContext(ctx, q).Scan(&c.FreeBlocks, &c.TotalBlocks)
		case "compact_recluster":
			if hot {
				err = recluster(ctx, conn, set, q)
			}
		default:
			_, err = ExecScript(ctx, conn, q)
		}
		if err != nil {
			return fmt.Errorf("_engine.sql %s: %w", section, err)
		}
	}
	return nil
}

// recluster runs compact_recluster (q) on each hot fact table of src.
func recluster(ctx context.Context, conn *sql.Conn, set *sqlfs.Set, q string) error {
	list, err := set.Section("_engine.sql", "compact_tables")
	if err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, list)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := ExecScript(ctx, conn, strings.ReplaceAll(q, "{{table}}", QuoteIdent(t))); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
