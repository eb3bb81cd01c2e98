// Package warehouse opens parcours' DuckDB stores: hot.duckdb (identified
// data, the ops schema: ledger, quarantine, audit) with cold.duckdb (anonymous
// aggregates) attached as catalog "cold". It creates the schemas and tables
// from the SQL files' "create" sections and installs, per connection, the
// macros the SQL transforms use.
package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
	sqlfs "github.com/parcours/parcours/sql"
)

// Warehouse is an open warehouse.
type Warehouse struct {
	DB       *sql.DB
	Dir      string
	ReadOnly bool
	SQL      *sqlfs.Set
	Secrets  *keys.Secrets
	Config   *config.Config
	conn     *duckdb.Connector
	userSQL  bool
	// memoryLimit is DuckDB's memory limit as last set ("" when DuckDB's
	// own default applies), for ReleaseMemory to restore.
	memoryLimit string
	// Migrated are the schema migrations Open ran, in order (none for a
	// new warehouse or one already at the latest version).
	Migrated []Migration
}

// Options says how to open a warehouse.
type Options struct {
	ReadOnly bool
	Secrets  *keys.Secrets
	SQL      *sqlfs.Set
	// Role is "" for a single-node warehouse, "i/n" for customer shard i
	// of n, "merged" for the warehouse `parcours merge` publishes from.
	// It is recorded at first use and a different role later is refused;
	// on a shard the in_shard macro selects the shard's customers.
	Role string
	// ShardIndex and ShardCount are Role's numbers when it is a shard.
	ShardIndex, ShardCount int
	// UserSQL opens the warehouse to run someone's ad-hoc SQL (see
	// Sandbox): no connection gets the macros that carry secrets.
	UserSQL bool
}

// KeystorePath is the file of wrapped data keys (see package vault).
func KeystorePath(dir string) string { return filepath.Join(dir, "keystore.bin") }

// KeystorePath is this warehouse's keystore file.
func (w *Warehouse) KeystorePath() string { return KeystorePath(w.Dir) }

// HotPath and ColdPath are the two store files of a warehouse folder.
func HotPath(dir string) string  { return filepath.Join(dir, "hot.duckdb") }
func ColdPath(dir string) string { return filepath.Join(dir, "cold.duckdb") }

// Exists reports whether dir holds a warehouse.
func Exists(dir string) bool {
	_, err := os.Stat(HotPath(dir))
	return err == nil
}

// Open opens (and on first use creates) the warehouse of cfg.Warehouse.
// The caller holds the warehouse lock.
func Open(ctx context.Context, cfg *config.Config, opt Options) (*Warehouse, error) {
	dir := cfg.Warehouse
	if opt.ReadOnly && !Exists(dir) {
		return nil, fmt.Errorf("warehouse %s: no hot.duckdb here; run `parcours run` first", dir)
	}
	if !Exists(dir) && opt.Secrets != nil && opt.Secrets.MasterKey != nil {
		// Not even the database files may be created next to another
		// warehouse's keystore.
		if err := checkOrphanKeystore(dir); err != nil {
			return nil, err
		}
	}
	if !opt.ReadOnly {
		if err := tighten(dir); err != nil {
			return nil, err
		}
		if err := sweepSpill(dir); err != nil {
			return nil, fmt.Errorf("warehouse %s: clear the spill folder: %w", dir, err)
		}
		if err := makePrivate(filepath.Join(dir, "tmp")); err != nil {
			return nil, fmt.Errorf("warehouse %s: %w", dir, err)
		}
	}
	q := engineParams(dir, cfg.DuckDB, opt.ReadOnly)
	dsn := HotPath(dir)
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	initSQL, err := connInit(cfg, opt)
	if err != nil {
		return nil, err
	}
	connector, err := duckdb.NewConnector(dsn, func(ex driver.ExecerContext) error {
		for _, s := range initSQL {
			if _, err := ex.ExecContext(context.Background(), s, nil); err != nil {
				return fmt.Errorf("init connection: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", dir, err)
	}
	w := &Warehouse{DB: sql.OpenDB(connector), Dir: dir, ReadOnly: opt.ReadOnly, SQL: opt.SQL, memoryLimit: q.Get("memory_limit"),
		Secrets: opt.Secrets, Config: cfg, conn: connector, userSQL: opt.UserSQL}
	if err := w.registerFunctions(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.attachCold(ctx); err != nil {
		w.Close()
		return nil, err
	}
	// Before anything is created or written: a lost or foreign keystore
	// would leave every vault value undecryptable.
	if err := w.checkKeystore(ctx); err != nil {
		w.Close()
		return nil, err
	}
	// The schema version, before the create sections: a warehouse made by
	// a newer parcours is refused, an older one migrated (or refused when
	// read-only), a new one recorded at the latest.
	var schema schemaState
	var migrations []Migration
	if w.SQL != nil {
		if migrations, err = Migrations(w.SQL); err == nil {
			if schema, err = w.readSchema(ctx); err == nil {
				err = w.checkSchema(schema, len(migrations))
			}
		}
		if err != nil {
			w.Close()
			return nil, err
		}
	}
	if !opt.ReadOnly {
		if err := w.bootstrap(ctx); err != nil {
			w.Close()
			return nil, err
		}
		if w.SQL != nil {
			if w.Migrated, err = w.migrate(ctx, schema, migrations); err != nil {
				w.Close()
				return nil, err
			}
		}
	}
	if err := w.checkSecrets(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if !opt.ReadOnly {
		if err := w.ensureKeystore(ctx); err != nil {
			w.Close()
			return nil, err
		}
		// The database files were created by DuckDB meanwhile.
		if err := tighten(dir); err != nil {
			w.Close()
			return nil, err
		}
	}
	if err := w.checkRole(ctx, opt.Role); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// engineParams are the DuckDB settings of a connection to the warehouse
// in dir: the configured threads and memory limit (by default 40% of the
// machine's or container's memory, DefaultMemoryLimit), and for writers
// the warehouse's tmp folder to spill to.
func engineParams(dir string, d config.DuckDB, readOnly bool) url.Values {
	q := url.Values{}
	if readOnly {
		q.Set("access_mode", "READ_ONLY")
	}
	if d.Threads > 0 {
		q.Set("threads", strconv.Itoa(d.Threads))
	}
	limit := d.MemoryLimit
	if limit == "" {
		limit = DefaultMemoryLimit()
	}
	if limit != "" {
		q.Set("memory_limit", limit)
	}
	if !readOnly {
		q.Set("temp_directory", filepath.Join(dir, "tmp"))
	}
	return q
}

// ErrRole is a warehouse opened in another role (shard i/n, merged,
// single node) than the one it was built in.
var ErrRole = errors.New("warehouse role mismatch")

// Role is the role recorded in the warehouse ("" for single node).
func (w *Warehouse) Role(ctx context.Context) (string, error) {
	return w.Meta(ctx, "role")
}

// checkRole records the role on first use and refuses another one later:
// rows of a shard processed as another shard, or as a whole, would be
// counted twice or lost.
func (w *Warehouse) checkRole(ctx context.Context, role string) error {
	got, err := w.Role(ctx)
	if err != nil {
		if w.ReadOnly {
			return nil // a warehouse from before roles
		}
		return fmt.Errorf("read warehouse role: %w", err)
	}
	if got == role {
		return nil
	}
	if got == "" && role != "" && !w.ReadOnly {
		var runs int64
		q, err := w.SQL.Section("ops.job_runs.sql", "count")
		if err != nil {
			return err
		}
		if err := w.DB.QueryRowContext(ctx, q).Scan(&runs); err == nil && runs > 0 {
			return fmt.Errorf("%w: warehouse %s was run as a single node; it cannot become %s (shard from a new warehouse)", ErrRole, w.Dir, role)
		}
		return w.putMeta(ctx, "role", role)
	}
	if role == "" && w.ReadOnly {
		return nil // reading a shard or merged warehouse (status, query) is fine
	}
	name := func(r string) string {
		switch r {
		case "":
			return "a single node"
		case "merged":
			return "the merged warehouse"
		}
		return "shard " + r
	}
	return fmt.Errorf("%w: warehouse %s is %s, not %s", ErrRole, w.Dir, name(got), name(role))
}

// connInit lists the statements run on every new connection: UTC session
// time zone (timestamps are stored as instants), the configured
// normalisation macros, and the pseudonym macro keyed by the pepper.
func connInit(cfg *config.Config, opt Options) ([]string, error) {
	if opt.SQL == nil {
		return nil, fmt.Errorf("open warehouse: no SQL files")
	}
	var stmts []string
	add := func(file, section string, vars ...string) error {
		body, err := opt.SQL.Section(file, section)
		if err != nil {
			return err
		}
		stmts = append(stmts, sqlfs.Split(strings.NewReplacer(vars...).Replace(body))...)
		return nil
	}
	if err := add("_engine.sql", "session"); err != nil {
		return nil, err
	}
	if err := add("_macros.sql", "main", "{{timezone}}", sqlString(cfg.Timezone), "{{tcf_mapping}}", cfg.TCFMappingSQL()); err != nil {
		return nil, err
	}
	if err := add("_macros.sql", "shard_of"); err != nil {
		return nil, err
	}
	inShard := func() error { return add("_macros.sql", "in_shard_all") }
	if opt.ShardCount > 0 {
		inShard = func() error {
			return add("_macros.sql", "in_shard", "{{count}}", strconv.Itoa(opt.ShardCount), "{{index}}", strconv.Itoa(opt.ShardIndex))
		}
	}
	if err := inShard(); err != nil {
		return nil, err
	}
	if opt.Secrets != nil && !opt.UserSQL {
		opad, ipad := keys.HMACPads(opt.Secrets.Pepper)
		if err := add("_macros.sql", "pseudonym", "{{opad}}", Quote(opad), "{{ipad}}", Quote(ipad)); err != nil {
			return nil, err
		}
		if err := add("_macros.sql", "landed_key", "{{salt}}", Quote(keys.Token(opt.Secrets.Pepper, "salt", "landed_keys")[:32])); err != nil {
			return nil, err
		}
	}
	return stmts, nil
}

// ShardPredicate is the SQL test "this row is shard i of n's": a customer
// key by its first 32 bits (orchestration.ShardOf), a row without one by
// the md5 of its route.
func ShardPredicate(key, route string, n, i int) string {
	return fmt.Sprintf("(%s = %d)", ShardIndex(key, route, fmt.Sprint(n)), i)
}

// ShardIndex is the SQL expression of the shard of n (an expression) a row
// goes to; ShardPredicate compares it. n is cast to UBIGINT: md5_number is
// a UHUGEINT, and modulo a BIGINT would be computed in DOUBLE, inexactly.
func ShardIndex(key, route, n string) string {
	return fmt.Sprintf(`(CASE WHEN %[1]s IS NOT NULL THEN coalesce(TRY_CAST(('0x' || left(%[1]s, 8)) AS UBIGINT) %% CAST(%[3]s AS UBIGINT), 0)
     ELSE md5_number(coalesce(%[2]s, '')) %% CAST(%[3]s AS UBIGINT) END)`, key, route, n)
}

func (w *Warehouse) attachCold(ctx context.Context) error {
	path := ColdPath(w.Dir)
	section := "attach_cold"
	if w.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		section = "attach_cold_read_only"
	}
	q, err := w.SQL.Section("_engine.sql", section)
	if err != nil {
		return err
	}
	if _, err := w.DB.ExecContext(ctx, strings.ReplaceAll(q, "{{path}}", Quote(path))); err != nil {
		return fmt.Errorf("attach cold store %s: %w", path, err)
	}
	return nil
}

// bootstrap creates schemas and runs every SQL file's "create" section, in
// file-name order. Every statement there is idempotent (IF NOT EXISTS).
func (w *Warehouse) bootstrap(ctx context.Context) error {
	if _, err := w.Exec(ctx, sqlfs.Ref{File: "_engine.sql", Section: "schemas"}); err != nil {
		return fmt.Errorf("create schemas: %w", err)
	}
	for _, f := range w.SQL.Files() {
		body, err := w.SQL.Section(f, "create")
		if err != nil {
			continue // a file without DDL
		}
		for _, stmt := range sqlfs.Split(body) {
			if _, err := w.DB.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create tables of %s: %w", f, err)
			}
		}
	}
	return nil
}

// Exec runs a multi-statement SQL section in one transaction.
func (w *Warehouse) Exec(ctx context.Context, ref sqlfs.Ref, args ...any) (int64, error) {
	body, err := w.SQL.Text(ref)
	if err != nil {
		return 0, err
	}
	return ExecScript(ctx, w.DB, body, args...)
}

// Execer is what ExecScript needs: *sql.DB, *sql.Conn and *sql.Tx all fit.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ExecScript runs each statement of a script and returns the rows affected
// by the last one. Arguments are passed to every statement that uses them
// (named $name parameters).
func ExecScript(ctx context.Context, db Execer, script string, args ...any) (int64, error) {
	var n int64
	for _, stmt := range sqlfs.Split(script) {
		res, err := db.ExecContext(ctx, stmt, argsFor(stmt, args)...)
		if err != nil {
			return 0, fmt.Errorf("%w\n-- in statement:\n%s", err, firstLines(stmt, 6))
		}
		if c, err := res.RowsAffected(); err == nil {
			n = c
		}
	}
	return n, nil
}

// argsFor keeps the named arguments a statement references, since DuckDB
// rejects unused parameters.
func argsFor(stmt string, args []any) []any {
	var out []any
	for _, a := range args {
		if na, ok := a.(sql.NamedArg); ok {
			if strings.Contains(stmt, "$"+na.Name) {
				out = append(out, a)
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// Close checkpoints and closes the warehouse.
func (w *Warehouse) Close() error {
	if w == nil || w.DB == nil {
		return nil
	}
	if !w.ReadOnly {
		_, _ = w.DB.Exec("CHECKPOINT")
	}
	err := w.DB.Close()
	if w.conn != nil {
		_ = w.conn.Close()
	}
	return err
}

// Conn returns one dedicated connection, for work that needs temp tables.
func (w *Warehouse) Conn(ctx context.Context) (*sql.Conn, error) {
	return w.DB.Conn(ctx)
}

// sqlString escapes a value for a single-quoted SQL literal.
func sqlString(s string) string { return strings.ReplaceAll(s, "'", "''") }

// Quote renders s as a single-quoted SQL string literal.
func Quote(s string) string { return "'" + sqlString(s) + "'" }

// QuoteIdent renders s as a double-quoted SQL identifier.
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// checkSecrets refuses secrets this warehouse was not made with: another
// pepper would silently give every identifier a new token, another master
// key could not unwrap any data key. Nothing is written before this check
// but the pepper's check value on first use.
func (w *Warehouse) checkSecrets(ctx context.Context) error {
	if w.Secrets == nil {
		return nil
	}
	want := vault.KeyCheckValue(w.Secrets.Pepper)
	got, err := w.Meta(ctx, "pepper_check")
	switch {
	case err != nil && w.ReadOnly:
		// A warehouse from before ops.meta, opened read-only: nothing to compare.
	case err != nil:
		return fmt.Errorf("read pepper check value: %w", err)
	case got == "" && !w.ReadOnly:
		if err := w.putMeta(ctx, "pepper_check", want); err != nil {
			return fmt.Errorf("record pepper check value: %w", err)
		}
	case got == "":
	case got != want:
		return fmt.Errorf("%w: the pepper (from %s) is not the one warehouse %s was built with (check value %s, this pepper %s); "+
			"restore the right key file or PARCOURS_PEPPER", keys.ErrKey, w.Secrets.PepperSource, w.Dir, got, want)
	}
	if w.Secrets.MasterKey == nil {
		return nil
	}
	h, err := vault.ReadHeader(w.KeystorePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil // checkKeystore decided a new one may be made
	}
	if err != nil {
		return err
	}
	kcv := h.KeyCheckValue
	if kcv == vault.KeyCheckValue(w.Secrets.MasterKey) {
		return nil
	}
	if w.Secrets.NextMasterKey != nil && kcv == vault.KeyCheckValue(w.Secrets.NextMasterKey) {
		return fmt.Errorf("%w: a master key rotation was interrupted (the keystore is already under the new key); "+
			"run `parcours keys rotate` again to finish it", keys.ErrKey)
	}
	return fmt.Errorf("%w: the master key (from %s, check value %s) does not open keystore %s (check value %s); "+
		"nothing was changed", keys.ErrKey, w.Secrets.MasterSource, vault.KeyCheckValue(w.Secrets.MasterKey), w.KeystorePath(), kcv)
}

// Run runs a SQL section on conn (a job's own connection, so TEMP tables
// live across sections), naming file and section in errors. It returns
// the rows affected by the section's last statement.
func (w *Warehouse) Run(ctx context.Context, conn Execer, ref sqlfs.Ref, args ...any) (int64, error) {
	q, err := w.SQL.Text(ref)
	if err != nil {
		return 0, err
	}
	n, err := ExecScript(ctx, conn, q, args...)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", ref.File, ref.Section, err)
	}
	return n, nil
}

// InTx runs f inside one transaction on conn: all of it or none of it.
func InTx(ctx context.Context, conn *sql.Conn, f func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := f(); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err := conn.ExecContext(ctx, "COMMIT")
	return err
}
