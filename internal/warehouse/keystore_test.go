package warehouse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
	sqlfs "github.com/parcours/parcours/sql"
)

// fingerprint is every file of a warehouse folder with its content hash:
// what "nothing was changed" means.
func fingerprint(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		lines = append(lines, rel+" "+hexSum(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 64)
	for _, c := range s {
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}

// A warehouse whose keystore is lost, or replaced by another warehouse's
// (same master key), is refused with a key error (exit 2) before
// anything is written; a new warehouse gets a keystore bound to it.
func TestKeystoreLostOrForeignRefused(t *testing.T) {
	ctx := context.Background()
	sqls, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	secrets := &keys.Secrets{Pepper: bytes.Repeat([]byte{1}, 32), MasterKey: bytes.Repeat([]byte{2}, 32)}
	newWarehouse := func() (config.Config, string) {
		cfg := config.Default()
		cfg.Warehouse = t.TempDir()
		wh := open(t, &cfg, secrets)
		id, err := wh.Meta(ctx, metaWarehouseID)
		if err != nil || len(id) != 2*vault.WarehouseIDSize {
			t.Fatalf("warehouse id %q %v", id, err)
		}
		ks, err := vault.OpenKeystore(wh.KeystorePath(), secrets.MasterKey)
		if err != nil {
			t.Fatalf("a new warehouse has no keystore: %v", err)
		}
		if ks.WarehouseID() != id {
			t.Fatalf("keystore bound to %q, warehouse is %q", ks.WarehouseID(), id)
		}
		ks.DataKey(vault.Subject{7}, true)
		if err := ks.Save(); err != nil {
			t.Fatal(err)
		}
		if err := wh.Close(); err != nil {
			t.Fatal(err)
		}
		return cfg, id
	}
	refused := func(t *testing.T, cfg config.Config, want string) {
		t.Helper()
		before := fingerprint(t, cfg.Warehouse)
		modes := []bool{false, true}
		if !Exists(cfg.Warehouse) {
			modes = modes[:1] // readers of a folder without a warehouse are told so first
		}
		for _, ro := range modes {
			w, err := Open(ctx, &cfg, Options{SQL: sqls, Secrets: secrets, ReadOnly: ro})
			if err == nil {
				w.Close()
				t.Fatalf("read-only %v: opened", ro)
			}
			if !errors.Is(err, keys.ErrKey) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "restore") {
				t.Fatalf("read-only %v: err = %v, want a key error saying %q and to restore", ro, err, want)
			}
		}
		if after := fingerprint(t, cfg.Warehouse); after != before {
			t.Fatalf("the refused open changed the warehouse:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	}

	t.Run("deleted", func(t *testing.T) {
		cfg, _ := newWarehouse()
		os.Remove(KeystorePath(cfg.Warehouse))
		refused(t, cfg, "does not exist")
	})
	t.Run("deleted, vault rows only", func(t *testing.T) {
		// A warehouse from before ops.meta recorded the keystore: the
		// vault's sealed rows are the evidence.
		cfg, _ := newWarehouse()
		wh := open(t, &cfg, secrets)
		for _, q := range []string{"DELETE FROM ops.meta WHERE key = 'keystore'",
			"INSERT INTO vault.pii (subject_token, updated_at, run_id) VALUES ('s', now(), 'r')"} {
			if _, err := wh.DB.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		wh.Close()
		os.Remove(KeystorePath(cfg.Warehouse))
		refused(t, cfg, "1 sealed subjects")
	})
	t.Run("foreign", func(t *testing.T) {
		cfg, _ := newWarehouse()
		other, otherID := newWarehouse()
		b, err := os.ReadFile(KeystorePath(other.Warehouse))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(KeystorePath(cfg.Warehouse), b, 0o600); err != nil {
			t.Fatal(err)
		}
		refused(t, cfg, "belongs to warehouse "+otherID)
	})
	t.Run("foreign in a new folder", func(t *testing.T) {
		other, _ := newWarehouse()
		cfg := config.Default()
		cfg.Warehouse = t.TempDir()
		b, _ := os.ReadFile(KeystorePath(other.Warehouse))
		os.WriteFile(KeystorePath(cfg.Warehouse), b, 0o600)
		refused(t, cfg, "a new warehouse")
	})
	t.Run("kept", func(t *testing.T) {
		cfg, _ := newWarehouse()
		w, err := Open(ctx, &cfg, Options{SQL: sqls, Secrets: secrets})
		if err != nil {
			t.Fatalf("its own keystore refused: %v", err)
		}
		w.Close()
	})
}
