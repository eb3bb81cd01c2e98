package filedrop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// chunkSize is how much is written between cancellation checks.
const chunkSize = 256 << 10

// writeAtomic puts data at dir/name so that the name only ever shows a
// complete file: data goes to a hidden temporary file in the same folder
// (same file system, so the rename is atomic), is fsynced, then renamed
// over the final name, and the folder is fsynced so the rename survives a
// crash. The file gets mode before the rename, so the final name never
// shows other permissions (CreateTemp makes it 0600; chmod ignores the
// umask). On any failure the temporary file is removed. failAfter, when
// positive, makes the write fail after that many bytes (tests).
func writeAtomic(ctx context.Context, dir, name string, data []byte, mode os.FileMode, failAfter int64) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var written int64
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(data), chunkSize)
		if failAfter > 0 && written+int64(n) > failAfter {
			return fmt.Errorf("write %s: injected failure after %d bytes", tmp, failAfter)
		}
		if _, err := f.Write(data[:n]); err != nil {
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		written += int64(n)
		data = data[n:]
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	final := filepath.Join(dir, name)
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("rename into %s: %w", final, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync folder %s: %w", dir, err)
	}
	return nil
}
