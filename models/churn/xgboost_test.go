package churn

import (
	"encoding/json"
	"testing"
)

// DefaultXGBoost stops early on tables of MinEarlyStoppingRows or more,
// holding out ValidationFraction of them, and the saved model says so;
// smaller tables are boosted on every row for the fixed default rounds.
func TestXGBoostEarlyStoppingBySize(t *testing.T) {
	if !haveXGBoost {
		t.Skip("built without XGBoost")
	}
	tests := []struct {
		rows          int
		wantValidRows int
	}{
		{MinEarlyStoppingRows - 1, 0},
		{MinEarlyStoppingRows + 1000, (MinEarlyStoppingRows + 1000) / 10},
	}
	for _, tt := range tests {
		ds := autoTable(t, tt.rows, "xor", 3)
		m, err := DefaultXGBoost().Fit(t.Context(), ds)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalBinary()
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Training TrainingInfo `json:"training"`
			XGBoost  struct {
				Stopping *struct {
					BestRound int  `json:"best_round"`
					Stopped   bool `json:"stopped_early"`
				} `json:"early_stopping"`
			} `json:"xgboost"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		got := f.Training
		// StratifiedSplit rounds each class's share, so allow one row.
		if d := got.ValidationRows - tt.wantValidRows; d < -1 || d > 1 || got.Rows+got.ValidationRows != tt.rows {
			t.Errorf("%d rows: trained on %d, validated on %d; want %d validation rows", tt.rows, got.Rows, got.ValidationRows, tt.wantValidRows)
		}
		if stopping := f.XGBoost.Stopping; (stopping != nil) != (tt.wantValidRows > 0) {
			t.Errorf("%d rows: early stopping record %+v", tt.rows, stopping)
		} else if stopping != nil && (stopping.BestRound < 1 || stopping.BestRound > 500) {
			t.Errorf("%d rows: best round %d", tt.rows, stopping.BestRound)
		}
	}
}
