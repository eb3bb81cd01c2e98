package churn

import (
	"context"
	"runtime"
	"sync"
)

// parallelChunks runs fn over [0, n) cut into contiguous chunks of at most
// size, on up to GOMAXPROCS goroutines. Results must not depend on the
// order chunks run in; the first error (or the context's) is returned.
func parallelChunks(ctx context.Context, n, size int, fn func(lo, hi int) error) error {
	chunks := (n + size - 1) / size
	workers := min(runtime.GOMAXPROCS(0), chunks)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	fail := func(err error) { once.Do(func() { first = err }) }
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				lo := c * size
				if err := fn(lo, min(lo+size, n)); err != nil {
					fail(err)
				}
			}
		}()
	}
feed:
	for c := range chunks {
		select {
		case <-ctx.Done():
			fail(ctx.Err())
			break feed
		case next <- c:
		}
	}
	close(next)
	wg.Wait()
	return first
}
