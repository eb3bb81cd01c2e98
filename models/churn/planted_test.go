package churn

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/parcours/parcours/models/eval"
)

// sourceColumn maps a feature back to its input column ("plan=basic" → "plan").
func sourceColumn(feature string) string {
	col, _, _ := strings.Cut(feature, "=")
	return col
}

// TestPlantedStructure fits each learner on 20,000 generated customers and
// checks on 20,000 others that logreg and XGBoost reach the Bayes AUC (the
// AUC of the true probabilities) within a small margin, beat the recency
// baseline, and name the planted feature as the top reason of customers
// whose true risk was driven by one feature.
func TestPlantedStructure(t *testing.T) {
	const n = 20000
	st := genTable(2*n, 1)
	ds, _, err := PrepareTable(st.cols, TableOptions{Label: "churned", ID: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	if ds.X.Cols() != 22 {
		t.Fatalf("features %v, want 19 numeric + 3 plan levels", ds.X.Names)
	}
	trainIdx := make([]int, n)
	testIdx := make([]int, n)
	for i := range n {
		trainIdx[i], testIdx[i] = i, n+i
	}
	train, test := ds.Subset(trainIdx), ds.Subset(testIdx)
	bayes, err := eval.ROCAUC(test.Y, st.prob[n:])
	if err != nil {
		t.Fatal(err)
	}

	// Customers driven by one feature: its true contribution is at least
	// 1.5 and beats every other one by at least 1.
	var driven []int
	var driver []string
	for k := range n {
		truth := st.truth[n+k]
		best, second, name := math.Inf(-1), math.Inf(-1), ""
		for col, c := range truth {
			if c > best {
				best, second, name = c, best, col
			} else if c > second {
				second = c
			}
		}
		if best >= 1.5 && best-second >= 1 {
			driven = append(driven, k)
			driver = append(driver, name)
		}
	}
	if len(driven) < 200 {
		t.Fatalf("only %d driven customers; the design changed", len(driven))
	}

	ctx := context.Background()
	base, err := Baseline{RecencyFeature: recencyName}.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	baseM, err := base.Evaluate(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Bayes AUC %.4f, recency baseline AUC %.4f, %d driven customers", bayes, baseM.ROCAUC, len(driven))

	tests := []struct {
		learner Learner
		// margin is how far below the Bayes AUC the learner may land: the
		// test AUC's own noise is about 0.004 at this size, and boosted
		// trees approximate the linear log-odds with steps.
		margin float64
		// minDriven is the share of driven customers whose top reason must
		// name the driving feature.
		minDriven float64
	}{
		{DefaultLogReg(), 0.005, 0.95},
		// XGBoost's defaults favour tables with interactions (the bench's
		// features); on this purely linear table it lands 0.015 below.
		{DefaultXGBoost(), 0.02, 0.9},
		// auto must see that the table is linear and be as good as logreg.
		{&Auto{Folds: 3, Seed: 5}, 0.005, 0.95},
	}
	for _, tc := range tests {
		t.Run(tc.learner.Algorithm(), func(t *testing.T) {
			if tc.learner.Algorithm() != AlgoLogReg && !haveXGBoost {
				t.Skip("built without XGBoost")
			}
			m, err := tc.learner.Fit(ctx, train)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			mt, err := m.Evaluate(ctx, test)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: AUC %.4f (Bayes %.4f), PR AUC %.4f, top-decile lift %.2f, Brier %.4f",
				tc.learner.Algorithm(), mt.ROCAUC, bayes, mt.PRAUC, mt.TopDecileLift, mt.Brier)
			if mt.ROCAUC < bayes-tc.margin {
				t.Errorf("AUC %.4f more than %.3f below the Bayes AUC %.4f", mt.ROCAUC, tc.margin, bayes)
			}
			if mt.ROCAUC > bayes+0.01 {
				t.Errorf("AUC %.4f above the Bayes AUC %.4f: the test leaks labels", mt.ROCAUC, bayes)
			}
			if mt.ROCAUC < baseM.ROCAUC+0.1 {
				t.Errorf("AUC %.4f does not clearly beat the recency baseline %.4f", mt.ROCAUC, baseM.ROCAUC)
			}
			if mt.Brier > baseM.Brier {
				t.Errorf("Brier %.4f worse than the baseline's %.4f", mt.Brier, baseM.Brier)
			}

			sub := test.Subset(driven)
			scores, err := m.ScoreDataset(ctx, sub, ScoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			hits := 0
			for k, s := range scores {
				if len(s.Reasons) > 0 && sourceColumn(s.Reasons[0].Feature) == driver[k] {
					hits++
				} else if k < 5 {
					t.Logf("customer %s driven by %s: reasons %+v", s.ID, driver[k], s.Reasons)
				}
			}
			share := float64(hits) / float64(len(scores))
			t.Logf("%s: top reason names the driver for %.1f%% of %d customers", tc.learner.Algorithm(), 100*share, len(scores))
			if share < tc.minDriven {
				t.Errorf("top reason names the driving feature for %.3f of driven customers, want >= %.2f", share, tc.minDriven)
			}
		})
	}

	// The comparison learner is not held to the Bayes AUC: golearn's ID3
	// trees are shallow (each feature once per path) and vote 0/1, and its
	// reasons come from one-at-a-time mean replacement. It must still beat
	// the recency baseline clearly and mostly name the driving feature.
	t.Run(AlgoForest, func(t *testing.T) {
		m, err := Forest{Trees: 50, MaxRows: n, Seed: 1}.Fit(ctx, train)
		if err != nil {
			t.Fatal(err)
		}
		mt, err := m.Evaluate(ctx, test)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := m.ScoreDataset(ctx, test.Subset(driven), ScoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hits := 0
		for k, s := range scores {
			if len(s.Reasons) > 0 && sourceColumn(s.Reasons[0].Feature) == driver[k] {
				hits++
			}
		}
		share := float64(hits) / float64(len(scores))
		t.Logf("forest: AUC %.4f (Bayes %.4f), PR AUC %.4f, top-decile lift %.2f, Brier %.4f; top reason names the driver for %.1f%%",
			mt.ROCAUC, bayes, mt.PRAUC, mt.TopDecileLift, mt.Brier, 100*share)
		if mt.ROCAUC < baseM.ROCAUC+0.1 {
			t.Errorf("forest AUC %.4f does not clearly beat the recency baseline %.4f", mt.ROCAUC, baseM.ROCAUC)
		}
		if share < 0.5 {
			t.Errorf("forest's top reason names the driving feature for only %.3f of driven customers", share)
		}
	})
}
