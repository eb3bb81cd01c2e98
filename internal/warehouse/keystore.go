package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
)

// Keys of ops.meta this file reads and writes.
const (
	metaWarehouseID = "warehouse_id" // random, minted with the warehouse; the keystore carries it too
	metaKeystore    = "keystore"     // set once the keystore exists: from then on it must
)

// vaultState is what the warehouse says about its keystore.
type vaultState struct {
	id        string // ops.meta warehouse_id ("" before the first writer)
	keystore  bool   // ops.meta says a keystore was created
	vaultRows int64  // sealed subjects in vault.pii
}

// readVaultState reads the warehouse's side of the keystore check. It runs
// before the "create" sections: tables that do not exist yet read as empty.
func (w *Warehouse) readVaultState(ctx context.Context) (vaultState, error) {
	var st vaultState
	if w.SQL == nil {
		return st, nil
	}
	q, err := w.SQL.Section("ops.meta.sql", "tables")
	if err != nil {
		return st, err
	}
	rows, err := w.DB.QueryContext(ctx, q)
	if err != nil {
		return st, fmt.Errorf("keystore check: %w", err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return st, err
		}
		have[t] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	if have["ops.meta"] {
		if st.id, err = w.Meta(ctx, metaWarehouseID); err != nil {
			return st, err
		}
		ks, err := w.Meta(ctx, metaKeystore)
		if err != nil {
			return st, err
		}
		st.keystore = ks != ""
	}
	if have["vault.pii"] {
		q, err := w.SQL.Section("vault.pii.sql", "count")
		if err != nil {
			return st, err
		}
		if err := w.DB.QueryRowContext(ctx, q).Scan(&st.vaultRows); err != nil {
			return st, fmt.Errorf("keystore check: %w", err)
		}
	}
	return st, nil
}

// Meta reads one ops.meta value ("" when absent).
func (w *Warehouse) Meta(ctx context.Context, key string) (string, error) {
	q, err := w.SQL.Section("ops.meta.sql", "get")
	if err != nil {
		return "", err
	}
	var v string
	err = w.DB.QueryRowContext(ctx, q, sql.Named("key", key)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read ops.meta %s: %w", key, err)
	}
	return v, nil
}

func (w *Warehouse) putMeta(ctx context.Context, key, value string) error {
	q, err := w.SQL.Section("ops.meta.sql", "put")
	if err != nil {
		return err
	}
	if _, err := w.DB.ExecContext(ctx, q, sql.Named("key", key), sql.Named("value", value)); err != nil {
		return fmt.Errorf("write ops.meta %s: %w", key, err)
	}
	return nil
}

// checkKeystore refuses, before anything is written, a warehouse whose
// keystore is gone (its vault holds sealed values, or ops.meta says a
// keystore was made) or belongs to another warehouse. Either would leave
// every vault value undecryptable while the run carried on as if the
// vault were empty. It needs no master key: the header says whose it is.
func (w *Warehouse) checkKeystore(ctx context.Context) error {
	if w.Secrets == nil || w.Secrets.MasterKey == nil {
		return nil
	}
	st, err := w.readVaultState(ctx)
	if err != nil {
		return err
	}
	path := w.KeystorePath()
	h, err := vault.ReadHeader(path)
	if errors.Is(err, os.ErrNotExist) {
		if st.keystore || st.vaultRows > 0 {
			return fmt.Errorf("%w: %s does not exist, but warehouse %s has one (%d sealed subjects in its vault): "+
				"restore keystore.bin from the backup taken with hot.duckdb; without it no vault value can be decrypted. Nothing was changed",
				vault.ErrMissing, path, w.Dir, st.vaultRows)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if h.WarehouseID == "" || h.WarehouseID == st.id {
		return nil // unbound (version 1) keystores are bound by ensureKeystore
	}
	return foreign(path, h.WarehouseID, st.id, w.Dir)
}

func foreign(path, owner, this, dir string) error {
	name := "a new warehouse"
	if this != "" {
		name = "warehouse " + this
	}
	return fmt.Errorf("%w: keystore %s belongs to warehouse %s, not to this one (%s at %s): "+
		"restore this warehouse's own keystore.bin from backup. Nothing was changed",
		keys.ErrKey, path, owner, name, dir)
}

// checkOrphanKeystore refuses to create a warehouse in a folder holding a
// keystore bound to another one (hot.duckdb lost or not yet restored).
func checkOrphanKeystore(dir string) error {
	h, err := vault.ReadHeader(KeystorePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if h.WarehouseID == "" {
		return nil
	}
	return foreign(KeystorePath(dir), h.WarehouseID, "", dir)
}

// ensureKeystore gives a writable warehouse its id and a keystore bound
// to it: created empty with a new warehouse, or bound in place when it
// predates binding. The id is recorded first and "keystore" last, so an
// interruption anywhere leaves a state the next open completes.
func (w *Warehouse) ensureKeystore(ctx context.Context) error {
	if w.Secrets == nil || w.Secrets.MasterKey == nil || w.SQL == nil {
		return nil
	}
	id, err := w.Meta(ctx, metaWarehouseID)
	if err != nil {
		return err
	}
	if id == "" {
		id = vault.NewWarehouseID()
		if err := w.putMeta(ctx, metaWarehouseID, id); err != nil {
			return err
		}
	}
	path := w.KeystorePath()
	_, err = vault.ReadHeader(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = vault.CreateKeystore(path, w.Secrets.MasterKey, id)
	case err == nil:
		err = vault.Bind(path, id)
	}
	if err != nil {
		return err
	}
	done, err := w.Meta(ctx, metaKeystore)
	if err != nil || done != "" {
		return err
	}
	return w.putMeta(ctx, metaKeystore, "created")
}
