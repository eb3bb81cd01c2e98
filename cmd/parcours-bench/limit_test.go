package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parcours/parcours/fixtures"
	"github.com/parcours/parcours/internal/sources"
)

func TestDeclaredTypes(t *testing.T) {
	srcs, err := sources.Effective(nil)
	if err != nil {
		t.Fatal(err)
	}
	var pos sources.Resolved
	for _, r := range srcs {
		if r.Name == "pos_transactions" {
			pos = r
		}
	}
	cols := []string{"receipt_id", "store_id", "ts", "loyalty_card", "items", "amount", "discount", "payment", "unknown"}
	types, formats := declaredTypes(pos, cols)
	want := []string{"VARCHAR", "VARCHAR", "TIMESTAMP", "VARCHAR", "VARCHAR", "DECIMAL(18,2)", "DECIMAL(18,2)", "VARCHAR", "VARCHAR"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("types %v, want %v", types, want)
	}
	if !strings.Contains(formats, "timestampformat = '%Y-%m-%d %H:%M:%S'") {
		t.Errorf("formats %q lack the source's timestamp format", formats)
	}
	q, err := limitQuery(pos, t.TempDir())
	if err != nil || q != "" {
		t.Errorf("a source without files: %q, %v", q, err)
	}
}

// TestLimitRead loads a small generated data set the limit's way: every
// built-in source with files gets a table, re-deliveries load once.
func TestLimitRead(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a data set")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	m, err := fixtures.Generate(context.Background(), fixtures.Options{Customers: 300, Days: 5, Seed: 3, Out: data, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]int64{}
	redelivered := map[string]int64{}
	for _, f := range m.Files {
		src := strings.TrimSuffix(filepath.Base(f.Path), filepath.Ext(f.Path))
		written[src] += f.Rows
		redelivered[src] += f.Redelivered
	}
	step, per, rows, err := limitRead(context.Background(), data, filepath.Join(dir, "limit.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if step.name != limitName || step.rows == 0 {
		t.Fatalf("step %+v", step)
	}
	for _, src := range []string{"web_events", "email_events", "app_events", "pos_transactions", "consents", "crm_customers"} {
		if _, ok := per[src]; !ok || rows[src] == 0 {
			t.Errorf("%s: not read (%v s, %d rows)", src, per[src], rows[src])
			continue
		}
		if rows[src] > written[src] {
			t.Errorf("%s: %d rows, more than the %d written", src, rows[src], written[src])
		}
		if redelivered[src] > 0 && rows[src] > written[src]-redelivered[src] {
			t.Errorf("%s: %d rows, re-deliveries kept (%d written, %d re-delivered)", src, rows[src], written[src], redelivered[src])
		}
	}
}

// TestSourceTimings reads the ingest job's per-source lines, scan included,
// and nothing else.
func TestSourceTimings(t *testing.T) {
	logs := strings.Join([]string{
		`{"level":"info","job":"ingest","source":"web_events","kind":"events","duration_s":8.5,"scan_s":7.25,"files":363,"read":2983895,"message":"source ingested"}`,
		`{"level":"debug","job":"ingest","source":"web_events","phase":"scan","took":7250,"message":"ingest step"}`,
		`not json`,
		`{"level":"error","job":"ingest","source":"email_events","duration_s":0.5,"scan_s":0.25,"read":4,"message":"source ingested"}`,
		`{"level":"info","job":"ingest","source":"stores","duration_s":0.04,"read":25,"message":"source ingested"}`,
	}, "\n")
	got := sourceTimings([]byte(logs))
	want := []sourceTiming{
		{source: "web_events", seconds: 8.5, scan: 7.25, rows: 2983895},
		{source: "email_events", seconds: 0.5, scan: 0.25, rows: 4},
		{source: "stores", seconds: 0.04, rows: 25}, // a log without scan_s: 0
	}
	if len(got) != len(want) {
		t.Fatalf("got %d timings %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("timing %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
