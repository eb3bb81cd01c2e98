package warehouse

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	sqlfs "github.com/parcours/parcours/sql"
)

// User SQL reads the warehouse and the cold exports, and nothing else of
// the machine: every statement that writes or reads files, attaches,
// loads or changes settings is refused, and the pepper cannot be read.
func TestSandboxRefusesTheMachine(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	cfg := config.Default()
	cfg.Warehouse = filepath.Join(base, "warehouse")
	secrets := &keys.Secrets{Pepper: bytes.Repeat([]byte{0x5A}, 32), MasterKey: bytes.Repeat([]byte{3}, 32)}
	wh := open(t, &cfg, secrets)
	if _, err := wh.DB.Exec("INSERT INTO ops.meta (key, value) VALUES ('probe', 'x')"); err != nil {
		t.Fatal(err)
	}
	wh.Close()
	// What must stay unreadable: a key file, the keystore, a file outside.
	keyFile := filepath.Join(cfg.Warehouse, "parcours.key")
	os.WriteFile(keyFile, []byte(`{"version":1,"master_key":"c2VjcmV0"}`), 0o600)
	outside := filepath.Join(base, "outside.csv")
	os.WriteFile(outside, []byte("a,b\n1,2\n"), 0o644)
	exports := filepath.Join(base, "exports", "cold")
	os.MkdirAll(exports, 0o755)
	os.WriteFile(filepath.Join(exports, "kpis.csv"), []byte("kpi,value\norders,3\n"), 0o644)

	sqls, _ := sqlfs.Parse(sqlfs.FS())
	ro, err := Open(ctx, &cfg, Options{ReadOnly: true, Secrets: secrets, SQL: sqls, UserSQL: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	conn, err := ro.Sandbox(ctx, []string{exports})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leak := filepath.Join(base, "leak.csv")
	run := func(q string) (string, error) {
		if err := CheckStatement(ctx, conn, q); err != nil {
			return "", err
		}
		var s string
		err := conn.QueryRowContext(ctx, q).Scan(&s)
		return s, err
	}
	for _, tc := range []struct{ name, q, want string }{
		{"copy out", "COPY (SELECT * FROM ops.meta) TO " + Quote(leak), "COPY statements are not allowed"},
		{"copy after a comment", "-- look\n(COPY ops.meta TO " + Quote(leak) + ")", "COPY statements are not allowed"},
		{"export", "EXPORT DATABASE " + Quote(filepath.Join(base, "dump")), "EXPORT"},
		{"attach", "ATTACH " + Quote(filepath.Join(base, "x.duckdb")) + " AS x", "ATTACH"},
		{"install", "INSTALL httpfs", "INSTALL"},
		{"load", "LOAD httpfs", "LOAD"},
		{"set", "SET enable_external_access = true", "SET"},
		{"set lower case", "set lock_configuration=false", "SET"},
		{"pragma", "PRAGMA enable_profiling", "PRAGMA"},
		{"two statements", "SELECT 1; SELECT 2", "exactly one statement"},
		{"select then copy", "SELECT 1; COPY (SELECT 1) TO " + Quote(leak), "exactly one statement"},
		{"insert", "INSERT INTO ops.meta VALUES ('a', 'b', now())", "not INSERT"},
		{"read the key file", "SELECT content FROM read_text(" + Quote(keyFile) + ")", "disabled by configuration"},
		{"read the keystore", "SELECT CAST(content AS VARCHAR) FROM read_blob(" + Quote(KeystorePath(cfg.Warehouse)) + ")", "disabled by configuration"},
		{"read /etc/passwd", "SELECT CAST(column0 AS VARCHAR) FROM read_csv('/etc/passwd')", "disabled by configuration"},
		{"glob", "SELECT file FROM glob('/root/*')", "disabled by configuration"},
		{"outside by path", "SELECT CAST(a AS VARCHAR) FROM " + Quote(outside), "disabled by configuration"},
		{"outside by dot-dot", "SELECT CAST(a AS VARCHAR) FROM " + Quote(filepath.Join(exports, "..", "..", "outside.csv")), "disabled by configuration"},
		{"getenv", "SELECT getenv('HOME')", "getenv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(tc.q)
			if err == nil {
				t.Fatalf("ran, returned %q", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(leak); err == nil {
		t.Fatal("a refused statement wrote a file")
	}
	if _, err := run("SELECT 1"); err == nil {
		// the statements above must not have unlocked anything
		if v, err := run("SELECT CAST(current_setting('enable_external_access') AS VARCHAR)"); err != nil || v != "false" {
			t.Fatalf("external access %q %v", v, err)
		}
	}
	for _, tc := range []struct{ name, q, want string }{
		{"a table", "SELECT value FROM ops.meta WHERE key = 'probe'", "x"},
		{"describe", "SELECT CAST(count(*) AS VARCHAR) FROM (DESCRIBE ops.meta)", "3"},
		{"an export", "SELECT CAST(value AS VARCHAR) FROM " + Quote(filepath.Join(exports, "kpis.csv")), "3"},
		{"pseudonym", "SELECT pseudonym('email', 'a@b.c')", keys.Token(secrets.Pepper, "email", "a@b.c")},
		{"explain", "EXPLAIN SELECT 1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckStatement(ctx, conn, tc.q); err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				return
			}
			got, err := run(tc.q)
			if err != nil || got != tc.want {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
	// The pepper is nowhere in what SQL can see of the functions.
	var defs string
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(string_agg(coalesce(macro_definition, ''), ' '), '') FROM duckdb_functions()").Scan(&defs); err != nil {
		t.Fatal(err)
	}
	pad := make([]byte, 32)
	for i, b := range secrets.Pepper {
		pad[i] = b ^ 0x36
	}
	if strings.Contains(strings.ToLower(defs), hex.EncodeToString(pad)) {
		t.Fatal("a function definition shows the pepper")
	}
	var salted int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'landed_key'").Scan(&salted); err != nil || salted != 0 {
		t.Fatalf("the salted landed_key macro is visible to user SQL (%d, %v)", salted, err)
	}
	if !errors.Is(CheckStatement(ctx, conn, "COPY ops.meta TO 'x'"), ErrStatement) {
		t.Fatal("refusals are not ErrStatement")
	}
}
