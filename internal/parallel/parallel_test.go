package parallel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

func TestForCallsEachIndexOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, n := range []int{0, 1, 7, 1000} {
		hits := make([]int, n)
		For(n, func(i int) { hits[i]++ })
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: index %d called %d times", n, i, h)
			}
		}
	}
}

func TestForRaisesPanicInCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want boom", p)
		}
	}()
	For(100, func(i int) {
		if i == 50 {
			panic("boom")
		}
	})
	t.Error("For returned after a panic")
}

func TestChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	cases := []struct {
		name      string
		n, size   int
		failAt    []int // chunk starts that fail
		cancelled bool
		want      string
	}{
		{"all succeed", 10, 3, nil, false, ""},
		{"first failing chunk in order", 100, 10, []int{70, 20, 50}, false, "chunk 20"},
		{"cancelled", 10, 3, nil, true, context.Canceled.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancelled {
				cancel()
			}
			defer cancel()
			seen := make([]bool, tc.n)
			err := Chunks(ctx, tc.n, tc.size, func(lo, hi int) error {
				for i := lo; i < hi; i++ {
					seen[i] = true
				}
				for _, f := range tc.failAt {
					if f == lo {
						return errors.New(fmt.Sprint("chunk ", lo))
					}
				}
				return nil
			})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
			for i, s := range seen {
				if !s && !tc.cancelled {
					t.Fatalf("index %d never covered", i)
				}
			}
		})
	}
}
