// Package whtest opens throwaway warehouses for tests: a temp folder, the
// SQL embedded in the binary and a test pepper.
package whtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// Open opens a new warehouse in a temp folder, closed when the test ends.
// cfg may be nil (the defaults); its Warehouse is set to the folder. adjust
// changes the options before the warehouse opens (a master key, a shard
// role, no secrets).
func Open(t testing.TB, cfg *config.Config, adjust ...func(*warehouse.Options)) *warehouse.Warehouse {
	t.Helper()
	if cfg == nil {
		c := config.Default()
		cfg = &c
	}
	cfg.Warehouse = t.TempDir()
	sqls, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	opts := warehouse.Options{SQL: sqls, Secrets: &keys.Secrets{Pepper: []byte("p")}}
	for _, f := range adjust {
		f(&opts)
	}
	wh, err := warehouse.Open(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wh.Close() })
	return wh
}

// OpenConn is Open with one connection of the warehouse, for tests whose
// statements share TEMP tables and macros; it is closed before the
// warehouse when the test ends.
func OpenConn(t testing.TB, cfg *config.Config, adjust ...func(*warehouse.Options)) (*warehouse.Warehouse, *sql.Conn) {
	t.Helper()
	wh := Open(t, cfg, adjust...)
	conn, err := wh.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return wh, conn
}
