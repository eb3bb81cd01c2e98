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

// Sweep removes the files matching pattern in dir: temp files a killed
// run left (the caller holds the warehouse lock, so no run is writing
// them). It returns how many it removed.
func Sweep(dir, pattern string) (int, error) {
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return 0, err
	}
	for _, p := range m {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return 0, err
		}
	}
	return len(m), nil
}
