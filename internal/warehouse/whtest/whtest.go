// Package whtest opens throwaway warehouses for tests: a temp folder, the
// SQL embedded in the binary and a test pepper.
package whtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
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

// OpenVault is Open with master as the master key, and the warehouse's
// keystore opened under it.
func OpenVault(t testing.TB, cfg *config.Config, master []byte) (*warehouse.Warehouse, *vault.Keystore) {
	t.Helper()
	wh := Open(t, cfg, func(o *warehouse.Options) { o.Secrets.MasterKey = master })
	ks, err := vault.OpenKeystore(wh.KeystorePath(), master)
	if err != nil {
		t.Fatal(err)
	}
	return wh, ks
}

// SealNames seals a subject's first and last names under its data key
// (minted when it has none), as the vault job does, for a vault.pii row:
// a name "" gives nil (NULL).
func SealNames(t testing.TB, ks *vault.Keystore, token, first, last string) (any, any) {
	t.Helper()
	subj, err := vault.ParseSubject(token)
	if err != nil {
		t.Fatal(err)
	}
	dk, _, err := ks.DataKey(subj, true)
	if err != nil {
		t.Fatal(err)
	}
	var out [2]any
	for i, v := range []struct{ field, value string }{{"first_name", first}, {"last_name", last}} {
		if v.value == "" {
			continue
		}
		if out[i], err = vault.Seal(dk, subj, v.field, v.value); err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1]
}

// Strings runs q on db (a *sql.DB or *sql.Conn) and returns its rows'
// single column as text, in the query's order; any error fails the test.
func Strings(t testing.TB, db warehouse.Queryer, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Exec runs q on db (a *sql.DB or *sql.Conn); an error fails the test,
// naming the statement.
func Exec(t testing.TB, db warehouse.Execer, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
}
