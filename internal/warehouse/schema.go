package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	sqlfs "github.com/parcours/parcours/sql"
)

// ErrSchema is a warehouse whose schema version this binary cannot use as
// it is: newer than the binary knows, or older and opened read-only.
var ErrSchema = errors.New("warehouse schema version")

// Migration is one ordered schema change: the SQL file
// migrate.<NNNN>.<what>.sql, which moves a warehouse from version NNNN-1
// to NNNN. Its "up" section changes hot.duckdb, in the transaction that
// records the version; its "up_cold" section changes the cold store, in a
// transaction of its own before (DuckDB writes one database per
// transaction), so it must be safe to run again.
type Migration struct {
	Version int
	File    string
}

// migrationPrefix names the migration files among the SQL files.
const migrationPrefix = "migrate."

// Migrations lists the migrations of set in order. They must be numbered
// 1, 2, 3... without gap or repeat, each with an "up" section: a set
// that is not is refused before anything runs.
func Migrations(set *sqlfs.Set) ([]Migration, error) {
	var out []Migration
	for _, f := range set.Files() {
		if !strings.HasPrefix(f, migrationPrefix) {
			continue
		}
		num, _, _ := strings.Cut(strings.TrimPrefix(f, migrationPrefix), ".")
		v, err := strconv.Atoi(num)
		if err != nil || len(num) != 4 {
			return nil, fmt.Errorf("%w: migration %s: want migrate.NNNN.<what>.sql", ErrSchema, f)
		}
		if !slices.Contains(set.Sections(f), "up") && !slices.Contains(set.Sections(f), "up_cold") {
			return nil, fmt.Errorf("%w: migration %s has no \"up\" or \"up_cold\" section", ErrSchema, f)
		}
		if v != len(out)+1 {
			return nil, fmt.Errorf("%w: migration %s: expected number %04d next (numbers run 0001, 0002, ... without gap or repeat)", ErrSchema, f, len(out)+1)
		}
		out = append(out, Migration{Version: v, File: f})
	}
	return out, nil
}

// SchemaVersion is the version this binary's SQL brings a warehouse to.
func SchemaVersion(set *sqlfs.Set) (int, error) {
	ms, err := Migrations(set)
	return len(ms), err
}

// schemaState is what a warehouse is before Open touches it.
type schemaState struct {
	fresh   bool // no table yet: the create sections make the latest shape
	version int  // ops.meta schema_version; 0 for a warehouse from before versions
}

// readSchema reads the state of the warehouse's schema, before the
// create sections run.
func (w *Warehouse) readSchema(ctx context.Context) (schemaState, error) {
	var st schemaState
	q, err := w.SQL.Section("ops.meta.sql", "schema_state")
	if err != nil {
		return st, err
	}
	var tables, meta int
	if err := w.DB.QueryRowContext(ctx, q).Scan(&tables, &meta); err != nil {
		return st, fmt.Errorf("read schema: %w", err)
	}
	if tables == 0 {
		st.fresh = true
		return st, nil
	}
	if meta == 0 {
		return st, nil // a warehouse from before ops.meta: version 0
	}
	if q, err = w.SQL.Section("ops.meta.sql", "get"); err != nil {
		return st, err
	}
	var v string
	err = w.DB.QueryRowContext(ctx, q, sql.Named("key", "schema_version")).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("read schema version: %w", err)
	}
	if st.version, err = strconv.Atoi(v); err != nil {
		return st, fmt.Errorf("%w: ops.meta schema_version %q is not a number", ErrSchema, v)
	}
	return st, nil
}

// checkSchema refuses what Open cannot use: a warehouse made by a newer
// parcours, and an older one opened read-only (migrating writes).
func (w *Warehouse) checkSchema(st schemaState, latest int) error {
	switch {
	case st.version > latest:
		return fmt.Errorf("%w: %s has schema version %d, this parcours knows up to %d: run the parcours that made it, or a newer one",
			ErrSchema, w.Dir, st.version, latest)
	case w.ReadOnly && !st.fresh && st.version < latest:
		return fmt.Errorf("%w: %s has schema version %d, this parcours needs %d: run `parcours migrate --warehouse %s` first (any command that writes migrates it too)",
			ErrSchema, w.Dir, st.version, latest, w.Dir)
	}
	return nil
}

// migrate brings a writable warehouse to the latest version after the
// create sections ran: a fresh one is recorded at it (its tables have the
// latest shape), an older one runs each pending migration in its own
// transaction with its version, so an interrupted migration resumes at
// the one that did not commit. It returns the migrations it ran.
func (w *Warehouse) migrate(ctx context.Context, st schemaState, ms []Migration) ([]Migration, error) {
	latest := len(ms)
	if st.fresh {
		return nil, w.setSchemaVersion(ctx, w.DB, latest)
	}
	var ran []Migration
	for _, m := range ms[st.version:] {
		if err := w.runMigration(ctx, m); err != nil {
			return ran, err
		}
		ran = append(ran, m)
	}
	return ran, nil
}

// runMigration runs one migration: its cold part, then its hot part with
// the version.
func (w *Warehouse) runMigration(ctx context.Context, m Migration) error {
	sections := w.SQL.Sections(m.File)
	for _, part := range []string{"up_cold", "up"} {
		has := slices.Contains(sections, part)
		if !has && part == "up_cold" {
			continue
		}
		body := "" // a migration of the cold store alone still records its version
		if has {
			body, _ = w.SQL.Section(m.File, part)
		}
		tx, err := w.DB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		_, err = ExecScript(ctx, tx, body)
		if err == nil && part == "up" {
			err = w.setSchemaVersion(ctx, tx, m.Version)
		}
		if err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("%w: migration %s (%s): %v", ErrSchema, m.File, part, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s (%s): commit: %w", m.File, part, err)
		}
	}
	return nil
}

func (w *Warehouse) setSchemaVersion(ctx context.Context, db Execer, v int) error {
	q, err := w.SQL.Section("ops.meta.sql", "set")
	if err != nil {
		return err
	}
	if _, err := ExecScript(ctx, db, q, sql.Named("key", "schema_version"), sql.Named("value", strconv.Itoa(v))); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	return nil
}
