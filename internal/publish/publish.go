// Package publish places the files parcours shares on purpose: the cold
// exports and the HTML report under export_dir. They hold no identifier
// (cold is k-anonymous, the report reads cold tables and counts), so they
// are readable by others (0644 files in 0755 folders) whatever the umask,
// which the CLI sets to 077 for everything else. It also sweeps the temp
// files a killed run left next to them.
package publish

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Modes of shared outputs.
const (
	DirMode  os.FileMode = 0o755
	FileMode os.FileMode = 0o644
)

// Dir creates root/sub... (the export folder and its sub-folders) readable
// by others and returns its path. Folders above root are left alone.
func Dir(root string, sub ...string) (string, error) {
	p := filepath.Join(append([]string{root}, sub...)...)
	if err := os.MkdirAll(p, DirMode); err != nil {
		return "", err
	}
	cur := root
	for i := -1; i < len(sub); i++ {
		if i >= 0 {
			cur = filepath.Join(cur, sub[i])
		}
		if err := os.Chmod(cur, DirMode); err != nil {
			return "", fmt.Errorf("make %s readable: %w", cur, err)
		}
	}
	return p, nil
}

// File makes a written file readable by others.
func File(path string) error { return os.Chmod(path, FileMode) }

// SweepAge is how old a temp file must be before Sweep takes it for a
// killed run's: the warehouse lock keeps this warehouse's runs apart, but
// not another warehouse's run writing into the same export folder, whose
// file is minutes old at most.
const SweepAge = time.Hour

// Sweep removes the files matching pattern in dir last written more than
// SweepAge before now: temp files a killed run left. It returns how many
// it removed.
func Sweep(dir, pattern string, now time.Time) (int, error) {
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range m {
		fi, err := os.Stat(p)
		if err != nil || now.Sub(fi.ModTime()) < SweepAge {
			continue // gone already, or another run's, in flight
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return n, err
		}
		n++
	}
	return n, nil
}
