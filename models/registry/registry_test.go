package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	sqlfs "github.com/parcours/parcours/sql"
)

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set, _ := sqlfs.Parse(sqlfs.FS())
	ddl, _ := set.Section("ops.models.sql", "create")
	if _, err := db.Exec("CREATE SCHEMA ops; " + ddl); err != nil {
		t.Fatal(err)
	}
	if _, err := Promoted(ctx, db, set, "churn"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty registry: %v", err)
	}
	cut := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	var ids []string
	for i, algo := range []string{"logreg", "xgboost"} {
		id := NewID("churn", algo, time.Date(2026, 11, 23, 10, i, 0, 0, time.UTC))
		art, err := SaveArtifact(dir, id, []byte("model "+algo))
		if err != nil {
			t.Fatal(err)
		}
		m := &Model{ID: id, Kind: "churn", Algorithm: algo, TrainCutoff: &cut, Features: []string{"recency_days", "frequency_365d"},
			Metrics: json.RawMessage(`{"roc_auc": 0.8}`), Artifact: art, CreatedAt: time.Date(2026, 11, 23, 10, i, 0, 0, time.UTC)}
		if err := Register(ctx, db, set, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if err := Promote(ctx, db, set, id, ""); err != nil {
			t.Fatal(err)
		}
		p, err := Promoted(ctx, db, set, "churn")
		if err != nil || p.ID != id {
			t.Fatalf("promoted = %v, %v; want %s", p, err, id)
		}
	}
	all, err := List(ctx, db, set, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("list: %v %v", all, err)
	}
	if all[0].ID != ids[1] || all[1].Status != "retired" || all[0].Status != "promoted" {
		t.Fatalf("statuses: %s=%s %s=%s", all[0].ID, all[0].Status, all[1].ID, all[1].Status)
	}
	m, err := Get(ctx, db, set, ids[0])
	if err != nil || len(m.Features) != 2 || m.TrainCutoff == nil || !m.TrainCutoff.Equal(cut) || string(m.Metrics) == "" {
		t.Fatalf("get: %+v %v", m, err)
	}
	b, err := LoadArtifact(dir, m)
	if err != nil || string(b) != "model logreg" {
		t.Fatalf("artifact: %q %v", b, err)
	}
	if _, err := Get(ctx, db, set, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}
