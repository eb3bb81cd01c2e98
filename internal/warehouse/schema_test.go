package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// sqlWith is the embedded SQL plus extra files (name -> text).
func sqlWith(t *testing.T, extra map[string]string) *sqlfs.Set {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(sqlfs.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sqlfs.FS(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range extra {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	set, err := sqlfs.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestMigrationsNumbering(t *testing.T) {
	latest, err := warehouse.SchemaVersion(sqlWith(t, nil))
	if err != nil || latest < 2 {
		t.Fatalf("the embedded set: version %d, %v", latest, err)
	}
	next := func(n int, what string) string { return fmt.Sprintf("migrate.%04d.%s.sql", latest+n, what) }
	wantNext := fmt.Sprintf("expected number %04d", latest+1)
	for _, tc := range []struct {
		name    string
		extra   map[string]string
		want    int
		wantErr string
	}{
		{"one more migration", map[string]string{next(1, "more"): "-- name: up\nSELECT 1;\n"}, latest + 1, ""},
		{"a gap", map[string]string{next(2, "late"): "-- name: up\nSELECT 1;\n"}, 0, wantNext},
		{"a repeat", map[string]string{"migrate.0001.again.sql": "-- name: up\nSELECT 1;\n"}, 0, "expected number 0002"},
		{"no up section", map[string]string{next(1, "more"): "-- name: down\nSELECT 1;\n"}, 0, `no "up" or "up_cold" section`},
		{"a bad number", map[string]string{"migrate.2.more.sql": "-- name: up\nSELECT 1;\n"}, 0, "want migrate.NNNN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := warehouse.SchemaVersion(sqlWith(t, tc.extra))
			switch {
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Fatalf("version %d, %v; want %d", got, err, tc.want)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, warehouse.ErrSchema)):
				t.Fatalf("error %v, want ErrSchema saying %q", err, tc.wantErr)
			}
		})
	}
}

type schemaWorld struct {
	t   *testing.T
	cfg config.Config
}

func (w *schemaWorld) open(set *sqlfs.Set, readOnly bool) (*warehouse.Warehouse, error) {
	return warehouse.Open(context.Background(), &w.cfg, warehouse.Options{SQL: set, ReadOnly: readOnly,
		Secrets: &keys.Secrets{Pepper: []byte("p")}})
}

func (w *schemaWorld) exec(set *sqlfs.Set, stmts ...string) {
	w.t.Helper()
	wh, err := w.open(set, false)
	if err != nil {
		w.t.Fatal(err)
	}
	defer wh.Close()
	for _, s := range stmts {
		if _, err := wh.DB.Exec(s); err != nil {
			w.t.Fatalf("%s: %v", s, err)
		}
	}
}

func (w *schemaWorld) query(set *sqlfs.Set, q string) string {
	w.t.Helper()
	wh, err := w.open(set, true)
	if err != nil {
		w.t.Fatal(err)
	}
	defer wh.Close()
	var s string
	if err := wh.DB.QueryRow(q).Scan(&s); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return s
}

const versionQuery = "SELECT value FROM ops.meta WHERE key = 'schema_version'"

// A warehouse from before schema versions (version 0, columns added since
// missing) is migrated when opened to write, refused when opened to read,
// and a new warehouse starts at the latest version without migrating.
func TestOpenMigrates(t *testing.T) {
	emb := sqlWith(t, nil)
	latest, err := warehouse.SchemaVersion(emb)
	if err != nil {
		t.Fatal(err)
	}
	v := func(n int) string { return strconv.Itoa(n) }
	w := &schemaWorld{t: t, cfg: config.Default()}
	w.cfg.Warehouse = t.TempDir()

	wh, err := w.open(emb, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(wh.Migrated) != 0 {
		t.Errorf("a new warehouse ran migrations %v", wh.Migrated)
	}
	wh.Close()
	if got := w.query(emb, versionQuery); got != v(latest) {
		t.Fatalf("new warehouse at version %s, want %d", got, latest)
	}

	// Make it what an older parcours left: no version, no decision column,
	// no vault name fingerprints (migration 2).
	w.exec(emb, "DELETE FROM ops.meta WHERE key = 'schema_version'", "ALTER TABLE ops.models DROP COLUMN decision",
		"ALTER TABLE ops.ingest_files DROP COLUMN rows_filtered", "ALTER TABLE cold.segment_profiles DROP COLUMN label",
		"ALTER TABLE vault.pii DROP COLUMN name_fps", "ALTER TABLE vault.pii_stage DROP COLUMN name_fps")

	_, err = w.open(emb, true)
	if !errors.Is(err, warehouse.ErrSchema) || !strings.Contains(err.Error(), "parcours migrate --warehouse") {
		t.Fatalf("read-only open of a version-0 warehouse: %v, want ErrSchema naming the command", err)
	}
	wh, err = w.open(emb, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(wh.Migrated) != latest || wh.Migrated[0].Version != 1 || wh.Migrated[latest-1].Version != latest {
		t.Errorf("migrated %v, want migrations 1 to %d", wh.Migrated, latest)
	}
	wh.Close()
	if got := w.query(emb, "SELECT count(*) FROM duckdb_columns() WHERE (table_name, column_name) IN (('models', 'decision'), ('ingest_files', 'rows_filtered'), ('segment_profiles', 'label'), ('pii', 'name_fps'), ('pii_stage', 'name_fps'))"); got != "5" {
		t.Errorf("%s of the dropped columns are back, want 5", got)
	}
	if got := w.query(emb, versionQuery); got != v(latest) {
		t.Errorf("version %s after migrating, want %d", got, latest)
	}

	// Two more migrations, the second broken: the first commits with its
	// version, the second leaves nothing behind, and a fixed one resumes.
	m1, m2 := fmt.Sprintf("migrate.%04d.note.sql", latest+1), fmt.Sprintf("migrate.%04d.bad.sql", latest+2)
	broken := sqlWith(t, map[string]string{
		m1: "-- name: up\nALTER TABLE ops.models ADD COLUMN note2 VARCHAR;\n",
		m2: "-- name: up\nALTER TABLE ops.models ADD COLUMN note3 VARCHAR;\nALTER TABLE ops.no_such_table ADD COLUMN x INT;\n",
	})
	if _, err := w.open(broken, false); !errors.Is(err, warehouse.ErrSchema) || !strings.Contains(err.Error(), m2) {
		t.Fatalf("broken migration: %v, want ErrSchema naming its file", err)
	}
	m2 = fmt.Sprintf("migrate.%04d.fixed.sql", latest+2)
	fixed := sqlWith(t, map[string]string{
		m1: "-- name: up\nALTER TABLE ops.models ADD COLUMN note2 VARCHAR;\n",
		m2: "-- name: up\nALTER TABLE ops.models ADD COLUMN note3 VARCHAR;\n",
	})
	wh, err = w.open(fixed, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(wh.Migrated) != 1 || wh.Migrated[0].File != m2 {
		t.Errorf("resumed with %v, want %s alone", wh.Migrated, m2)
	}
	wh.Close()
	if got := w.query(fixed, versionQuery); got != v(latest+2) {
		t.Errorf("version %s, want %d", got, latest+2)
	}

	// This binary's SQL knows only up to latest: the warehouse is newer.
	for _, ro := range []bool{false, true} {
		if _, err := w.open(emb, ro); !errors.Is(err, warehouse.ErrSchema) || !strings.Contains(err.Error(), "knows up to "+v(latest)) {
			t.Errorf("read-only %v: opening a version-3 warehouse: %v, want ErrSchema", ro, err)
		}
	}
}
