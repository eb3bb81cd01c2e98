package warehouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Holder describes the process holding a warehouse's write lock, so a
// second process can say who is in its way.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s since %s (%s)", h.PID, h.Host, h.Since.Format(time.RFC3339), h.Command)
}

// LockedError is returned when another process holds the warehouse. The CLI
// maps it to exit 75: the scheduler should retry later, not fail the task.
type LockedError struct {
	Dir    string
	Holder *Holder
}

func (e *LockedError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("warehouse %s is in use by another parcours process", e.Dir)
	}
	return fmt.Sprintf("warehouse %s is locked by %s", e.Dir, e.Holder)
}

// Lock is a held warehouse lock.
type Lock struct {
	fl         *flock.Flock
	holderPath string
	exclusive  bool
}

const (
	lockFile   = ".parcours.lock"
	holderFile = ".parcours.lock.holder"
)

// AcquireLock takes the warehouse lock without waiting: exclusive for
// commands that write, shared for those that only read. The lock is an OS
// file lock, so it is released even if the process is killed.
func AcquireLock(dir string, exclusive bool, command string) (*Lock, error) {
	if err := os.MkdirAll(dir, PrivateDir); err != nil {
		return nil, fmt.Errorf("warehouse %s: %w", dir, err)
	}
	fl := flock.New(filepath.Join(dir, lockFile))
	var ok bool
	var err error
	if exclusive {
		ok, err = fl.TryLock()
	} else {
		ok, err = fl.TryRLock()
	}
	if err != nil {
		return nil, fmt.Errorf("lock warehouse %s: %w", dir, err)
	}
	l := &Lock{fl: fl, holderPath: filepath.Join(dir, holderFile), exclusive: exclusive}
	if !ok {
		return nil, &LockedError{Dir: dir, Holder: readHolder(l.holderPath)}
	}
	if exclusive {
		host, _ := os.Hostname()
		h := Holder{PID: os.Getpid(), Host: host, Command: command, Since: time.Now().UTC()}
		b, _ := json.Marshal(h)
		tmp := l.holderPath + ".tmp"
		if err := os.WriteFile(tmp, b, PrivateFile); err == nil {
			_ = os.Rename(tmp, l.holderPath)
		}
	}
	return l, nil
}

func readHolder(path string) *Holder {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var h Holder
	if json.Unmarshal(b, &h) != nil {
		return nil
	}
	return &h
}

// Release frees the lock.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	if l.exclusive {
		_ = os.Remove(l.holderPath)
	}
	return l.fl.Unlock()
}

// IsLocked reports whether err says the warehouse is held by someone else.
func IsLocked(err error) bool {
	var le *LockedError
	return errors.As(err, &le) || strings.Contains(fmt.Sprint(err), "Could not set lock on file")
}
