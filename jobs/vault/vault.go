// Package vault is the vault job: it seals the newest CRM version of each
// customer into vault.pii (AES-256-GCM under the customer's data key, see
// internal/vault) and derives the generalised profile analytics may use
// (analytics.customer_profile, analytics.customer_attrs). The reading side,
// for erasure, subject access and activation, is internal/vault's
// ReadSubjects.
package vault

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/parallel"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Job is the vault job.
type Job struct{}

// New returns the vault job.
func New() *Job { return &Job{} }

// Spec implements orchestration.Job.
func (j *Job) Spec() orchestration.Spec {
	return orchestration.Spec{Name: "vault", Needs: []string{"identity"},
		SQL: sqlRefs(),
		Doc: "seal CRM PII in the identity vault (per-customer keys); generalised profile (region, birth year) for analytics"}
}

// Run implements orchestration.Job.
func (j *Job) Run(ctx context.Context, env *orchestration.Env) (orchestration.Counts, error) {
	var c orchestration.Counts
	wh := env.WH
	if wh.Secrets == nil || wh.Secrets.MasterKey == nil {
		return c, fmt.Errorf("vault: no master key loaded")
	}
	ks, err := vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey)
	if err != nil {
		return c, err
	}
	conn, err := wh.Conn(ctx)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "vault.pii.sql", Section: "clear_stage"}); err != nil {
		return c, err
	}
	// Sealing holds the changed subjects in Go: DuckDB gives back first
	// what the jobs before left in its cache.
	if err := wh.ReleaseMemory(ctx); err != nil {
		return c, err
	}
	sealed, err := sealChanged(ctx, wh, conn, ks, env.RunID)
	if err != nil {
		return c, err
	}
	filled, err := fillNameFingerprints(ctx, wh, conn, ks)
	if err != nil {
		return c, err
	}
	c.In = int64(sealed)
	// New data keys are on disk before any value sealed under them is
	// committed: a crash in between leaves unused keys, never unreadable data.
	if err := ks.Save(); err != nil {
		return c, err
	}
	err = warehouse.InTx(ctx, conn, func() error {
		for _, s := range [][2]string{{"vault.pii.sql", "apply"}, {"analytics.customer_profile.sql", "build"}, {"analytics.customer_attrs.sql", "build"}} {
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: s[0], Section: s[1]}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	q, err := wh.SQL.Section("vault.pii.sql", "count")
	if err != nil {
		return c, err
	}
	err = warehouse.QueryRow(ctx, conn, q).Scan(&c.Out)
	c.Detail = map[string]int64{"sealed_subjects": int64(sealed), "data_keys": int64(ks.Len())}
	if filled > 0 {
		c.Detail["name_fingerprints_filled"] = int64(filled)
	}
	if err != nil {
		return c, fmt.Errorf("vault.pii.sql count: %w", err)
	}
	return c, nil
}

// sealChanged seals every changed CRM record into vault.pii_stage.
func sealChanged(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, ks *vault.Keystore, runID string) (int, error) {
	q, err := wh.SQL.Section("vault.pii.sql", "changed")
	if err != nil {
		return 0, err
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("vault.pii.sql changed: %w", err)
	}
	type rec struct {
		token   string
		updated time.Time
		vals    []sql.NullString
	}
	var recs []rec
	for rows.Next() {
		r := rec{vals: make([]sql.NullString, len(vault.Fields()))}
		dest := []any{&r.token, &r.updated}
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return 0, err
		}
		recs = append(recs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	err = conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "", "vault", "pii_stage")
		if err != nil {
			return err
		}
		for _, r := range recs {
			subj, err := vault.ParseSubject(r.token)
			if err != nil {
				_ = app.Close()
				return err
			}
			dk, _, err := ks.DataKey(subj, true)
			if err != nil {
				_ = app.Close()
				return err
			}
			row := []driver.Value{r.token, nil, r.updated}
			var names [2]string // first, last: their fingerprints go beside them
			for i, f := range vault.Fields() {
				switch f {
				case "first_name":
					names[0] = r.vals[i].String
				case "last_name":
					names[1] = r.vals[i].String
				}
				if !r.vals[i].Valid {
					row = append(row, nil)
					continue
				}
				ct, err := vault.Seal(dk, subj, f, r.vals[i].String)
				if err != nil {
					_ = app.Close()
					return err
				}
				row = append(row, ct)
			}
			row = append(row, runID, vault.NameFingerprints(wh.Secrets.Pepper, names[0], names[1]))
			if err := app.AppendRow(row...); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("seal vault values: %w", err)
	}
	return len(recs), nil
}

// fillNameFingerprints computes the name fingerprints of the vault rows
// sealed before vault.pii kept them (migration 0002): once, on the first
// run after the migration; a row whose data key is gone gets none.
func fillNameFingerprints(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, ks *vault.Keystore) (int, error) {
	q, err := wh.SQL.Section("vault.pii.sql", "missing_name_fps")
	if err != nil {
		return 0, err
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("vault.pii.sql missing_name_fps: %w", err)
	}
	type rec struct {
		token       string
		first, last []byte
	}
	var recs []rec
	for rows.Next() {
		var r rec
		if err := rows.Scan(&r.token, &r.first, &r.last); err != nil {
			rows.Close()
			return 0, err
		}
		recs = append(recs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, nil
	}
	fps := make([][]string, len(recs))
	err = parallel.Chunks(ctx, len(recs), 4096, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			first, last, err := ks.OpenNames(recs[i].token, recs[i].first, recs[i].last)
			if err != nil {
				return err
			}
			fps[i] = vault.NameFingerprints(wh.Secrets.Pepper, first, last)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("fingerprint vault names: %w", err)
	}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "vault.pii.sql", Section: "name_fps_stage"}); err != nil {
		return 0, err
	}
	err = conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", "vault_name_fps")
		if err != nil {
			return err
		}
		for i, r := range recs {
			if err := app.AppendRow(r.token, fps[i]); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("stage name fingerprints: %w", err)
	}
	if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "vault.pii.sql", Section: "set_name_fps"}); err != nil {
		return 0, err
	}
	return len(recs), nil
}
