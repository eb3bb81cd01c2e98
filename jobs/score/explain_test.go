package score

import (
	"context"
	"errors"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"
)

func TestExplain(t *testing.T) {
	ctx := context.Background()
	wh := whtest.Open(t, nil)
	for _, s := range []string{
		`INSERT INTO identity.customers VALUES ('k1', true, 'customer_id', 2, 1, NULL), ('k2', true, 'email', 1, 0, NULL)`,
		// Two days of churn scores: the latest is explained.
		`INSERT INTO analytics.churn_scores VALUES
		   (DATE '2026-03-01', 'k1', 'm1', 0.20, 'low', 'old', NULL, NULL, '[]'),
		   (DATE '2026-03-02', 'k1', 'm2', 0.72, 'high', 'no purchase for 28 days', 'fewer visits', NULL,
		    '[{"feature": "recency_days", "value": 28, "contribution": 0.9}]')`,
		`INSERT INTO analytics.clv_scores (scored_on, customer_key, model_id, p_alive, purchases_30d, purchases_90d, purchases_365d, expected_spend, clv)
		   VALUES (DATE '2026-03-02', 'k1', 'c1', 0.8, 0.3, 0.9, 3.1, 40, 110.5)`,
	} {
		if _, err := wh.DB.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	for _, tc := range []struct {
		key     string
		known   bool
		prob    float64
		clv     float64
		wantErr error
	}{
		{"k1", true, 0.72, 110.5, nil},
		{"k2", true, 0, 0, ErrNotScored}, // a customer, never scored
		{"zz", false, 0, 0, ErrNotScored},
	} {
		known, err := IsCustomer(ctx, wh, tc.key)
		if err != nil || known != tc.known {
			t.Errorf("IsCustomer(%s) = %v, %v", tc.key, known, err)
		}
		e, err := Explain(ctx, wh, tc.key)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Explain(%s): %v, want %v", tc.key, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		reasons, _ := e.Churn["reasons"].([]any)
		if e.Churn["probability"] != tc.prob || e.Churn["model_id"] != "m2" || e.Churn["reason_2"] != "fewer visits" || len(reasons) != 1 ||
			e.CLV["clv"] != tc.clv {
			t.Errorf("Explain(%s) = %+v", tc.key, e)
		}
	}
}
