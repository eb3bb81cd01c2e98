package orchestration

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/warehouse"
)

// Exit codes, the contract with schedulers.
const (
	ExitOK          = 0
	ExitJobFailed   = 1
	ExitUsage       = 2
	ExitNotFound    = 67 // EX_NOUSER: the identifier or subject asked about is held by no customer
	ExitTemporary   = 75 // EX_TEMPFAIL: retry later
	ExitNothingToDo = 99 // nothing to do for that date (e.g. no extract arrived)
)

// NotFoundError is an identifier, subject or model nobody holds: the
// command ran, and what it looked for is not there.
type NotFoundError struct{ Err error }

func (e *NotFoundError) Error() string { return e.Err.Error() }
func (e *NotFoundError) Unwrap() error { return e.Err }

// NotFound wraps a message as a not-found outcome (exit 67).
func NotFound(format string, args ...any) error {
	return &NotFoundError{Err: fmt.Errorf(format, args...)}
}

// TemporaryError marks a failure worth retrying later: a destination that
// is down, a lock held by another run.
type TemporaryError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary wraps err as worth a retry.
func Temporary(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TemporaryError{Err: err, RetryAfter: retryAfter}
}

// UsageError is a mistake in how parcours was called or configured; a
// retry without a change will fail the same way.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a usage or configuration error.
func Usage(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ErrNothingToDo says a run found nothing to process for its date.
var ErrNothingToDo = errors.New("nothing to do")

// SkipError is a job that had nothing to do: not a failure, and the jobs
// after it run with what exists (a model not trained yet keeps the one
// promoted before, if any).
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// Skip says a job has nothing to do, and why, in words an operator reads
// ("no customer has bought twice yet: no CLV model to fit").
func Skip(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// IsTemporary reports whether err is worth retrying later.
func IsTemporary(err error) bool {
	var t *TemporaryError
	return errors.As(err, &t) || warehouse.IsLocked(err) || errors.Is(err, context.DeadlineExceeded)
}

// ExitCode maps an error to the exit code a scheduler acts on.
func ExitCode(err error) int {
	var u *UsageError
	var nf *NotFoundError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &nf):
		return ExitNotFound
	case errors.As(err, &u), errors.Is(err, keys.ErrKey), errors.Is(err, ErrInvalidDAG), errors.Is(err, warehouse.ErrRole),
		errors.Is(err, warehouse.ErrSchema):
		return ExitUsage
	case IsTemporary(err):
		return ExitTemporary
	case errors.Is(err, ErrNothingToDo):
		return ExitNothingToDo
	default:
		return ExitJobFailed
	}
}
