package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"
)

// makeHistory copies night D's derived rows to the nights before it, one
// copy a night, and leaves the models' older cut-offs alone; run twice it
// gives the same warehouse.
func TestMakeHistory(t *testing.T) {
	wh := whtest.Open(t, nil)
	for _, q := range []string{
		`INSERT INTO analytics.customer_features (cutoff, customer_key) VALUES (DATE '2026-11-21', 'k1'), (DATE '2026-11-21', 'k2'), (DATE '2026-05-01', 'k1')`,
		`INSERT INTO analytics.churn_scores (scored_on, customer_key, model_id, probability, risk_band) VALUES (DATE '2026-11-20', 'k1', 'm', 0.5, 'medium')`,
		`INSERT INTO analytics.clv_scores (scored_on, customer_key, model_id) VALUES (DATE '2026-11-20', 'k1', 'm')`,
		`INSERT INTO analytics.segment_members (computed_on, family, segment, customer_key) VALUES (DATE '2026-11-20', 'rfm', 'lost', 'k1'), (DATE '2026-11-20', 'rfm', 'new', 'k2')`,
	} {
		if _, err := wh.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dir := wh.Dir
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		n, err := makeHistory(context.Background(), dir, "2026-11-20", 5)
		if err != nil {
			t.Fatal(err)
		}
		// 5 nights: features 2 a night + the old cut-off, 1 churn, 1 clv, 2 segments.
		if want := int64(5*2 + 1 + 5 + 5 + 5*2); n != want {
			t.Errorf("run %d: %d derived rows, want %d", run, n, want)
		}
	}
	db, err := sql.Open("duckdb", filepath.Join(dir, "hot.duckdb")+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow(`SELECT concat_ws(' ',
  (SELECT string_agg(DISTINCT CAST(cutoff AS VARCHAR), ',' ORDER BY CAST(cutoff AS VARCHAR)) FROM analytics.customer_features),
  (SELECT string_agg(DISTINCT CAST(computed_on AS VARCHAR), ',' ORDER BY CAST(computed_on AS VARCHAR)) FROM analytics.segment_members))`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	want := "2026-05-01,2026-11-17,2026-11-18,2026-11-19,2026-11-20,2026-11-21 2026-11-16,2026-11-17,2026-11-18,2026-11-19,2026-11-20"
	if got != want {
		t.Errorf("nights\n got %s\nwant %s", got, want)
	}
}
