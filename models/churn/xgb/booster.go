//go:build !noxgboost

package xgb

/*
#cgo LDFLAGS: -lxgboost
#include <stdlib.h>
#include <xgboost/c_api.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// threadNote: XGBoost 1.7 keeps per-OS-thread state for a booster: the
// last error message, the prediction cache (including the training matrix
// registered by XGBoosterCreate, from which the first boosting round reads
// the feature count) and the buffers results are returned in. A goroutine
// may change OS threads between two cgo calls, which made training fail now
// and then with "0 feature is supplied" and gave equal seeds different
// boosters; so every operation below runs its whole sequence of C calls on
// one locked OS thread.

// Booster is a trained XGBoost model held in C memory. It is safe for
// concurrent use; Close frees it.
type Booster struct {
	mu       sync.Mutex
	handle   C.BoosterHandle
	features int
	cleanup  runtime.Cleanup
}

// lastError wraps XGBoost's message for the failed call.
func lastError(op string) error {
	return fmt.Errorf("xgboost %s: %s", op, C.GoString(C.XGBGetLastError()))
}

// Version returns the linked XGBoost library version, e.g. "1.7.4".
func Version() string {
	var major, minor, patch C.int
	C.XGBoostVersion(&major, &minor, &patch)
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}

// dmatrix copies a row-major rows×cols matrix into C memory and builds a
// DMatrix over it with NaN as the missing marker. The caller frees it.
func dmatrix(x []float64, rows, cols int) (C.DMatrixHandle, error) {
	if rows < 1 || cols < 1 || len(x) != rows*cols {
		return nil, fmt.Errorf("xgboost: matrix of %d values is not %d×%d", len(x), rows, cols)
	}
	buf := (*C.float)(C.malloc(C.size_t(len(x)) * C.size_t(unsafe.Sizeof(C.float(0)))))
	if buf == nil {
		return nil, errors.New("xgboost: out of C memory for the matrix")
	}
	// XGBoost copies the values into its own storage, so the buffer can go
	// as soon as the DMatrix exists.
	defer C.free(unsafe.Pointer(buf))
	dst := unsafe.Slice((*float32)(unsafe.Pointer(buf)), len(x))
	for i, v := range x {
		dst[i] = float32(v)
	}
	var h C.DMatrixHandle
	if C.XGDMatrixCreateFromMat(buf, C.bst_ulong(rows), C.bst_ulong(cols), C.float(math.NaN()), &h) != 0 {
		return nil, lastError("create matrix")
	}
	return h, nil
}

// setLabels attaches y (0/1) to a DMatrix, through C memory as well.
func setLabels(h C.DMatrixHandle, y []float64) error {
	buf := (*C.float)(C.malloc(C.size_t(len(y)) * C.size_t(unsafe.Sizeof(C.float(0)))))
	if buf == nil {
		return errors.New("xgboost: out of C memory for the labels")
	}
	defer C.free(unsafe.Pointer(buf))
	dst := unsafe.Slice((*float32)(unsafe.Pointer(buf)), len(y))
	for i, v := range y {
		dst[i] = float32(v)
	}
	field := C.CString("label")
	defer C.free(unsafe.Pointer(field))
	if C.XGDMatrixSetFloatInfo(h, field, buf, C.bst_ulong(len(y))) != 0 {
		return lastError("set labels")
	}
	return nil
}

// newBooster wraps a handle and registers the backstop cleanup.
func newBooster(h C.BoosterHandle, features int) *Booster {
	b := &Booster{handle: h, features: features}
	b.cleanup = runtime.AddCleanup(b, freeBooster, h)
	return b
}

// freeBooster is the cleanup for a Booster dropped without Close.
func freeBooster(h C.BoosterHandle) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.XGBoosterFree(h)
}

// Train fits a binary:logistic booster on the row-major rows×cols matrix x
// (NaN = missing) and labels y in {0, 1}, for p.Rounds rounds. The context
// is checked between boosting rounds.
func Train(ctx context.Context, x []float64, rows, cols int, y []float64, p Params) (*Booster, error) {
	b, _, err := train(ctx, x, rows, cols, y, nil, p)
	return b, err
}

// TrainValidated is Train with early stopping on the validation set valid
// (same columns): after each round the validation log-loss is computed,
// training stops once it has not improved for p.EarlyStoppingRounds rounds
// (or after p.Rounds), and the booster keeps the rounds up to the best one.
func TrainValidated(ctx context.Context, x []float64, rows, cols int, y []float64, valid Set, p Params) (*Booster, Stopping, error) {
	if p.EarlyStoppingRounds < 1 {
		return nil, Stopping{}, fmt.Errorf("xgboost train: early_stopping_rounds %d < 1", p.EarlyStoppingRounds)
	}
	if valid.Rows < 1 || len(valid.Y) != valid.Rows || len(valid.X) != valid.Rows*cols {
		return nil, Stopping{}, fmt.Errorf("xgboost train: validation set of %d values and %d labels is not %d×%d", len(valid.X), len(valid.Y), valid.Rows, cols)
	}
	return train(ctx, x, rows, cols, y, &valid, p)
}

func train(ctx context.Context, x []float64, rows, cols int, y []float64, valid *Set, p Params) (*Booster, Stopping, error) {
	runtime.LockOSThread() // see threadNote
	defer runtime.UnlockOSThread()
	var st Stopping
	if err := p.Validate(); err != nil {
		return nil, st, err
	}
	if len(y) != rows {
		return nil, st, fmt.Errorf("xgboost train: %d labels for %d rows", len(y), rows)
	}
	dm, err := dmatrix(x, rows, cols)
	if err != nil {
		return nil, st, err
	}
	defer C.XGDMatrixFree(dm)
	if err := setLabels(dm, y); err != nil {
		return nil, st, err
	}
	dms := []C.DMatrixHandle{dm}
	var vm C.DMatrixHandle
	if valid != nil {
		if vm, err = dmatrix(valid.X, valid.Rows, cols); err != nil {
			return nil, st, err
		}
		defer C.XGDMatrixFree(vm)
		if err := setLabels(vm, valid.Y); err != nil {
			return nil, st, err
		}
		dms = append(dms, vm)
	}
	var h C.BoosterHandle
	// dms lives in Go memory but holds only C handles, which cgo allows.
	if C.XGBoosterCreate(&dms[0], C.bst_ulong(len(dms)), &h) != 0 {
		return nil, st, lastError("create booster")
	}
	b := newBooster(h, cols)
	fail := func(err error) (*Booster, Stopping, error) {
		b.Close()
		return nil, st, err
	}
	for _, kv := range p.settings() {
		if err := b.setParam(kv[0], kv[1]); err != nil {
			return fail(err)
		}
	}
	var evalName *C.char
	if valid != nil {
		if err := b.setParam("eval_metric", "logloss"); err != nil {
			return fail(err)
		}
		evalName = C.CString("valid")
		defer C.free(unsafe.Pointer(evalName))
		st.BestLogLoss = math.Inf(1)
	}
	for iter := 0; iter < p.Rounds; iter++ {
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("xgboost train: round %d: %w", iter, err))
		}
		if C.XGBoosterUpdateOneIter(h, C.int(iter), dm) != 0 {
			return fail(lastError(fmt.Sprintf("boosting round %d", iter)))
		}
		st.Rounds = iter + 1
		if valid == nil {
			continue
		}
		loss, err := b.evalLogLoss(iter, vm, evalName)
		if err != nil {
			return fail(err)
		}
		// Strictly better only: a plateau does not extend training.
		if loss < st.BestLogLoss {
			st.BestLogLoss, st.BestRound = loss, iter+1
		} else if iter+1-st.BestRound >= p.EarlyStoppingRounds {
			st.Stopped = true
			break
		}
	}
	if valid == nil || st.BestRound == st.Rounds {
		return b, st, nil
	}
	var sliced C.BoosterHandle
	if C.XGBoosterSlice(h, 0, C.int(st.BestRound), 1, &sliced) != 0 {
		return fail(lastError("keep the best rounds"))
	}
	b.Close()
	return newBooster(sliced, cols), st, nil
}

// evalLogLoss returns the log-loss of the booster after round iter on the
// matrix vm, parsed from XGBoost's "[iter]\tvalid-logloss:0.123" line.
func (b *Booster) evalLogLoss(iter int, vm C.DMatrixHandle, name *C.char) (float64, error) {
	dms := []C.DMatrixHandle{vm}
	names := []*C.char{name}
	var out *C.char
	if C.XGBoosterEvalOneIter(b.handle, C.int(iter), &dms[0], &names[0], 1, &out) != 0 {
		return 0, lastError("evaluate round")
	}
	line := C.GoString(out)
	i := strings.LastIndexByte(line, ':')
	if i < 0 {
		return 0, fmt.Errorf("xgboost evaluate round %d: unexpected result %q", iter, line)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(line[i+1:]), 64)
	if err != nil {
		return 0, fmt.Errorf("xgboost evaluate round %d: unexpected result %q", iter, line)
	}
	return v, nil
}

func (b *Booster) setParam(name, value string) error {
	cn, cv := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cv))
	if C.XGBoosterSetParam(b.handle, cn, cv) != 0 {
		return lastError("set " + name)
	}
	return nil
}

// Features returns the number of columns the booster was trained on.
func (b *Booster) Features() int { return b.features }

// Predict scores the row-major rows×cols matrix x; the result holds
// kind.width(cols) values per row (see Kind).
func (b *Booster) Predict(x []float64, rows, cols int, kind Kind) ([]float64, error) {
	runtime.LockOSThread() // see threadNote
	defer runtime.UnlockOSThread()
	if cols != b.features {
		return nil, fmt.Errorf("xgboost predict: %d columns, booster trained on %d", cols, b.features)
	}
	dm, err := dmatrix(x, rows, cols)
	if err != nil {
		return nil, err
	}
	defer C.XGDMatrixFree(dm)
	cfg := C.CString(fmt.Sprintf(`{"type": %d, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false}`, int(kind)))
	defer C.free(unsafe.Pointer(cfg))

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.handle == nil {
		return nil, errors.New("xgboost predict: booster is closed")
	}
	var shape *C.bst_ulong
	var dim C.bst_ulong
	var res *C.float
	if C.XGBoosterPredictFromDMatrix(b.handle, dm, cfg, &shape, &dim, &res) != 0 {
		return nil, lastError("predict")
	}
	want := rows * kind.width(cols)
	dims := unsafe.Slice(shape, int(dim))
	total := 1
	for _, d := range dims {
		total *= int(d)
	}
	if total != want {
		return nil, fmt.Errorf("xgboost predict: got shape %v, want %d values", dims, want)
	}
	// The result buffer belongs to the booster and is reused by the next
	// call, so copy it out while the lock is held.
	src := unsafe.Slice((*float32)(unsafe.Pointer(res)), want)
	out := make([]float64, want)
	for i, v := range src {
		out[i] = float64(v)
	}
	return out, nil
}

// Save returns the booster in XGBoost's UBJSON model format.
func (b *Booster) Save() ([]byte, error) {
	runtime.LockOSThread() // see threadNote
	defer runtime.UnlockOSThread()
	cfg := C.CString(`{"format": "ubj"}`)
	defer C.free(unsafe.Pointer(cfg))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.handle == nil {
		return nil, errors.New("xgboost save: booster is closed")
	}
	var n C.bst_ulong
	var data *C.char
	if C.XGBoosterSaveModelToBuffer(b.handle, cfg, &n, &data) != 0 {
		return nil, lastError("save")
	}
	return C.GoBytes(unsafe.Pointer(data), C.int(n)), nil
}

// Load rebuilds a booster from bytes written by Save (or any XGBoost model
// buffer), for data with the given number of columns.
func Load(model []byte, features int) (*Booster, error) {
	runtime.LockOSThread() // see threadNote
	defer runtime.UnlockOSThread()
	if len(model) == 0 {
		return nil, errors.New("xgboost load: empty model")
	}
	var h C.BoosterHandle
	if C.XGBoosterCreate(nil, 0, &h) != 0 {
		return nil, lastError("create booster")
	}
	b := newBooster(h, features)
	buf := C.CBytes(model)
	defer C.free(buf)
	if C.XGBoosterLoadModelFromBuffer(h, buf, C.bst_ulong(len(model))) != 0 {
		err := lastError("load")
		b.Close()
		return nil, err
	}
	var n C.bst_ulong
	if C.XGBoosterGetNumFeature(h, &n) != 0 {
		err := lastError("feature count")
		b.Close()
		return nil, err
	}
	if int(n) != features {
		b.Close()
		return nil, fmt.Errorf("xgboost load: model has %d features, expected %d", n, features)
	}
	return b, nil
}

// Rounds returns the number of boosting rounds in the model.
func (b *Booster) Rounds() (int, error) {
	runtime.LockOSThread() // see threadNote
	defer runtime.UnlockOSThread()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.handle == nil {
		return 0, errors.New("xgboost rounds: booster is closed")
	}
	var n C.int
	if C.XGBoosterBoostedRounds(b.handle, &n) != 0 {
		return 0, lastError("boosted rounds")
	}
	return int(n), nil
}

// Close frees the booster's C memory; later calls fail. It is idempotent.
func (b *Booster) Close() error {
	runtime.LockOSThread() // see threadNote
	defer runtime.UnlockOSThread()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.handle == nil {
		return nil
	}
	b.cleanup.Stop()
	rc := C.XGBoosterFree(b.handle)
	b.handle = nil
	if rc != 0 {
		return lastError("free booster")
	}
	return nil
}
