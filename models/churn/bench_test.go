package churn

import (
	"context"
	"testing"
)

// benchRows is the benchmark size: 200,000 customers × 20 input columns
// (22 features once the plan column is one-hot encoded).
const benchRows = 200000

func benchDataset(b *testing.B) *Dataset {
	b.Helper()
	if testing.Short() {
		b.Skip("200,000-row benchmark skipped in -short")
	}
	ds, _, err := PrepareTable(genTable(benchRows, 77).cols, TableOptions{Label: "churned", ID: "customer"})
	if err != nil {
		b.Fatal(err)
	}
	return ds
}

func benchLearners() []Learner {
	l := []Learner{DefaultLogReg(), DefaultForest(), Baseline{RecencyFeature: recencyName}}
	if haveXGBoost {
		l = append(l, DefaultXGBoost())
	}
	return l
}

// BenchmarkFit fits each learner on 200,000 rows (the forest on its
// default 20,000-row sample).
func BenchmarkFit(b *testing.B) {
	ds := benchDataset(b)
	ctx := context.Background()
	for _, l := range benchLearners() {
		b.Run(l.Algorithm(), func(b *testing.B) {
			for b.Loop() {
				m, err := l.Fit(ctx, ds)
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
		})
	}
}

// BenchmarkScoreWithReasons scores 200,000 rows with probability, band and
// three reasons each.
func BenchmarkScoreWithReasons(b *testing.B) {
	ds := benchDataset(b)
	ctx := context.Background()
	for _, l := range benchLearners() {
		m, err := l.Fit(ctx, ds)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(l.Algorithm(), func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Score(ctx, ds.X, ds.IDs, ScoreOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		m.Close()
	}
}
