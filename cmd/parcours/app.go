package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// app holds what every command shares: flags, the loaded config, the logger.
type app struct {
	stdout, stderr io.Writer

	cfgPath, flagWarehouse, flagInput, flagLogFormat, flagLogLevel, flagShard, flagMerged string

	// shard is the customer shard the command works on (--shard i/n);
	// role is the warehouse role to open ("" single node, "i/n", "merged").
	shard orchestration.Shard
	role  string

	cfg config.Config
	log zerolog.Logger
}

// load reads the configuration and applies the global flags.
func (a *app) load(cmd *cobra.Command) error {
	cfg, err := config.Load(a.cfgPath)
	if err != nil {
		return orchestration.Usage("%v", err)
	}
	if a.flagWarehouse != "" {
		cfg.Warehouse = a.flagWarehouse
	}
	if a.flagInput != "" {
		cfg.Input = a.flagInput
	}
	if a.flagLogFormat != "" {
		cfg.Log.Format = a.flagLogFormat
	}
	if a.flagLogLevel != "" {
		cfg.Log.Level = a.flagLogLevel
	}
	// The sections only their job can check (trigger names, clustering
	// bounds, a destination's own keys) are checked with the rest, and
	// every problem is said at once: a misspelt key exits 2 before any
	// work, named even when it also leaves a required key missing.
	verr := cfg.Validate()
	if err := orchestration.CheckConfig(jobs.All(), &cfg); err != nil {
		verr = errors.Join(verr, fmt.Errorf("config: %w", err))
	}
	if verr != nil {
		return orchestration.Usage("%v", verr)
	}
	if a.flagShard != "" {
		sh, err := orchestration.ParseShard(a.flagShard)
		if err != nil {
			return err
		}
		a.shard, a.role = sh, sh.String()
	}
	if a.flagMerged != "" && a.flagShard == "" {
		return orchestration.Usage("--merged names a shard's merged warehouse: it goes with --shard i/n")
	}
	a.cfg = cfg
	a.log = logging.New(a.stderr, cfg.Log.Format, cfg.Log.Level)
	return nil
}

// sqlSet returns the SQL transforms: embedded, or from sql_dir when set.
func (a *app) sqlSet() (*sqlfs.Set, error) {
	fsys := sqlfs.FS()
	if a.cfg.SQLDir != "" {
		fsys = os.DirFS(a.cfg.SQLDir)
	}
	s, err := sqlfs.Parse(fsys)
	if err != nil {
		return nil, orchestration.Usage("%v", err)
	}
	if a.cfg.SQLDir != "" {
		// The binary may run any section it ships (the jobs declare theirs,
		// the warehouse and the commands run others): a folder that drops
		// or misspells one is refused before anything runs.
		shipped, err := sqlfs.Parse(sqlfs.FS())
		if err != nil {
			return nil, err
		}
		if err := s.Check(shipped.All()); err != nil {
			return nil, orchestration.Usage("sql_dir %s: %v", a.cfg.SQLDir, err)
		}
	}
	return s, nil
}

// session is an open, locked warehouse.
type session struct {
	wh   *warehouse.Warehouse
	lock *warehouse.Lock
}

func (s *session) Close() {
	if s == nil {
		return
	}
	_ = s.wh.Close()
	_ = s.lock.Release()
}

// open locks and opens the warehouse. Writers take the lock exclusively
// and may create the key file; readers share the lock and never mint keys.
func (a *app) open(ctx context.Context, readOnly bool, command string) (*session, error) {
	return a.openWith(ctx, readOnly, command, nil)
}

// openWith is open with a last say on the warehouse options.
func (a *app) openWith(ctx context.Context, readOnly bool, command string, adjust func(*warehouse.Options)) (*session, error) {
	lock, err := warehouse.AcquireLock(a.cfg.Warehouse, !readOnly, command)
	if err != nil {
		return nil, err
	}
	sqls, err := a.sqlSet()
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	// Keys are minted only with a new warehouse: for an existing one a
	// missing key file is an error, never a reason to make new keys.
	// Shards and their merge must share one pepper and master key, so
	// they never mint their own.
	secrets, err := keys.Load(a.cfg.KeyFile(), !readOnly && !warehouse.Exists(a.cfg.Warehouse) && a.role == "")
	if err != nil && !readOnly {
		_ = lock.Release()
		if a.role != "" {
			return nil, fmt.Errorf("%w (shards and their merge share one pepper and master key: set %s and %s, or keys.file, for every one)",
				err, keys.EnvPepper, keys.EnvMasterKey)
		}
		return nil, err
	}
	if err != nil {
		secrets = nil // read-only commands that need no pepper still work
	}
	opt := warehouse.Options{ReadOnly: readOnly, Secrets: secrets, SQL: sqls,
		Role: a.role, ShardIndex: a.shard.Index, ShardCount: a.shard.Count}
	if adjust != nil {
		adjust(&opt)
	}
	wh, err := warehouse.Open(ctx, &a.cfg, opt)
	if err != nil {
		_ = lock.Release()
		if warehouse.IsLocked(err) {
			return nil, orchestration.Temporary(err, 0)
		}
		return nil, err
	}
	for _, m := range wh.Migrated {
		a.log.Info().Str("migration", m.File).Int("schema_version", m.Version).Msg("warehouse schema migrated")
	}
	return &session{wh: wh, lock: lock}, nil
}

// parseDate reads a logical date; empty means yesterday in the business
// time zone (a nightly run processes the day that just ended).
func (a *app) parseDate(s string) (time.Time, error) {
	if s == "" {
		now := time.Now().In(a.cfg.Location())
		y := now.AddDate(0, 0, -1)
		return time.Date(y.Year(), y.Month(), y.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, orchestration.Usage("--date %q: want YYYY-MM-DD", s)
	}
	return d, nil
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printTable(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
