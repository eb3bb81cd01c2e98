//go:build noxgboost

package churn

import (
	"context"
	"strings"
	"testing"
)

// haveXGBoost tells tests whether this build links XGBoost.
const haveXGBoost = false

func TestXGBoostLearnerSaysWhyUnavailable(t *testing.T) {
	ds := tinyDataset(t)
	l, err := NewLearner(AlgoXGBoost, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Fit(context.Background(), ds)
	if err == nil || !strings.Contains(err.Error(), "built without XGBoost (tag noxgboost)") {
		t.Errorf("Fit error %v", err)
	}
}
