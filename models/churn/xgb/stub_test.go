//go:build noxgboost

package xgb

import (
	"context"
	"errors"
	"testing"
)

func TestStubSaysWhy(t *testing.T) {
	_, err := Train(context.Background(), []float64{1}, 1, 1, []float64{1}, DefaultParams())
	if !errors.Is(err, ErrUnavailable) || err.Error() != "built without XGBoost (tag noxgboost)" {
		t.Errorf("Train error %v", err)
	}
	if _, err := Load([]byte{1}, 1); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Load error %v", err)
	}
}
