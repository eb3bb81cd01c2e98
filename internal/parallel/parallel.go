// Package parallel runs independent pieces of work on every core in a way
// whose result does not depend on the scheduling: each call writes only its
// own slots, and the error reported is the first in input order.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls f(0), ..., f(n-1) on up to GOMAXPROCS goroutines. Each call
// writes only its own slots of the caller's slices, so results do not
// depend on the scheduling. A panic in f is raised again in the caller,
// where the job runner recovers it.
func For(n int, f func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		panicked any
	)
	for range workers {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					once.Do(func() { panicked = p })
					next.Store(int64(n)) // stop handing out work
				}
			}()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}

// Chunks runs fn over [0, n) cut into contiguous chunks of at most size,
// with For. It returns the error of the first failing chunk in order (or
// the context's, for chunks not started once it is done).
func Chunks(ctx context.Context, n, size int, fn func(lo, hi int) error) error {
	chunks := (n + size - 1) / size
	errs := make([]error, chunks)
	For(chunks, func(c int) {
		if errs[c] = ctx.Err(); errs[c] != nil {
			return
		}
		lo := c * size
		errs[c] = fn(lo, min(lo+size, n))
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
