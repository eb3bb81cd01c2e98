package warehouse

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Modes of what the warehouse folder holds: personal data (hot.duckdb,
// its WAL, DuckDB's spill files, the quarantine's raw text) and keys. The
// process umask is set to 077 by the CLI as well, so files DuckDB creates
// on its own (WAL, spill files) are owner-only from their first byte.
const (
	PrivateDir  os.FileMode = 0o700
	PrivateFile os.FileMode = 0o600
)

// makePrivate creates dir owner-only, or makes an existing one so.
func makePrivate(dir string) error {
	if err := os.MkdirAll(dir, PrivateDir); err != nil {
		return err
	}
	return os.Chmod(dir, PrivateDir)
}

// tighten makes the warehouse folder and everything in it owner-only,
// whatever mode an earlier version or another umask created them with.
// The folder holds nothing meant to be shared: the report and the cold
// exports are written under export_dir.
func tighten(dir string) error {
	if err := makePrivate(dir); err != nil {
		return fmt.Errorf("warehouse %s: %w", dir, err)
	}
	return filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil // a WAL checkpointed away meanwhile
			}
			return err
		}
		want := PrivateFile
		if fi.IsDir() {
			want = PrivateDir
		}
		if fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm() == want {
			return nil
		}
		if err := os.Chmod(p, want); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s owner-only: %w", p, err)
		}
		return nil
	})
}

// sweepSpill removes DuckDB's spill files a killed process left in the
// warehouse's tmp folder. Only a writer holding the exclusive lock calls
// it: no other process can be using them.
func sweepSpill(dir string) error {
	entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, "tmp", e.Name())); err != nil {
			return err
		}
	}
	return nil
}
