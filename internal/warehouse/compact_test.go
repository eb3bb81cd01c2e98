package warehouse

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
)

// After a big load is purged, Compact gives the disk back and keeps every
// row, the quarantine sequence's position, and the warehouse's role and
// secrets check.
func TestCompact(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	secrets := &keys.Secrets{Pepper: bytes.Repeat([]byte{7}, 32)}
	wh := open(t, &cfg, secrets)
	for _, q := range []string{
		// A catch-up load's landing, then the rows a night keeps.
		`CREATE TABLE landing.web_events (event_id VARCHAR, session_id VARCHAR, page VARCHAR)`,
		`INSERT INTO landing.web_events (event_id, session_id, page) SELECT 'e' || range, md5(range::VARCHAR), md5((range * 7)::VARCHAR) FROM range(3000000)`,
		`INSERT INTO ops.quarantine (source, file, line, reason, load_date, run_id) SELECT 'web_events', 'f.csv', range, 'bad', DATE '2026-01-01', 'r' FROM range(1000)`,
		// Hot facts as nights append them: time order, customers mixed.
		`INSERT INTO analytics.email_events (event_id, campaign_id, ts, event_date, customer_key, event, _batch)
SELECT 'm' || range, 'c', TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (range * 97) MINUTE,
       CAST(TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (range * 97) MINUTE AS DATE), md5(CAST(range % 503 AS VARCHAR)), 'open', 'b' || (range // 1000)
FROM range(20000)`,
		"CHECKPOINT",
		"DELETE FROM landing.web_events WHERE event_id > 'e2'", // most of it, as purge would
		"DELETE FROM analytics.email_events WHERE event_id LIKE 'm1%'",
	} {
		if _, err := wh.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tables := []string{"landing.web_events", "ops.quarantine", "ops.meta", "analytics.email_events"}
	before := map[string]Checksum{}
	for _, tbl := range tables {
		c, err := TableChecksum(ctx, wh.DB, tbl)
		if err != nil {
			t.Fatal(err)
		}
		before[tbl] = c
	}
	if before["landing.web_events"].Rows == 0 || before["ops.meta"].Rows == 0 {
		t.Fatalf("nothing to keep: %+v", before)
	}
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}

	got, err := Compact(ctx, cfg.Warehouse, cfg.DuckDB, wh.SQL)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].File != "hot.duckdb" || got[1].File != "cold.duckdb" {
		t.Fatalf("compacted %+v, want hot.duckdb and cold.duckdb", got)
	}
	hot := got[0]
	t.Logf("hot.duckdb %d -> %d bytes (%d of %d blocks free)", hot.Before, hot.After, hot.FreeBlocks, hot.TotalBlocks)
	if hot.FreeBlocks == 0 || hot.After >= hot.Before/2 {
		t.Errorf("hot.duckdb %d -> %d bytes (%d of %d blocks free): the purged landing was not given back",
			hot.Before, hot.After, hot.FreeBlocks, hot.TotalBlocks)
	}
	if st, err := os.Stat(HotPath(cfg.Warehouse)); err != nil || st.Size() != hot.After {
		t.Errorf("hot.duckdb on disk: %v %v, reported %d", st, err, hot.After)
	}
	for _, p := range []string{HotPath(cfg.Warehouse) + ".compact", HotPath(cfg.Warehouse) + ".wal"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}

	// The same secrets open it (the pepper check value was copied) and a
	// different pepper is still refused.
	wh = open(t, &cfg, secrets)
	for _, tbl := range tables {
		c, err := TableChecksum(ctx, wh.DB, tbl)
		if err != nil {
			t.Fatal(err)
		}
		if c != before[tbl] {
			t.Errorf("%s: %+v before compaction, %+v after", tbl, before[tbl], c)
		}
	}
	// The hot facts are back in the split's order: month, customer, time.
	var rows, disorder int64
	if err := wh.DB.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE pm > m OR (pm = m AND (pk > k OR (pk = k AND pt > ts))))
FROM (SELECT date_trunc('month', event_date) AS m, customer_key AS k, ts,
             lag(date_trunc('month', event_date)) OVER w AS pm, lag(customer_key) OVER w AS pk, lag(ts) OVER w AS pt
      FROM analytics.email_events WINDOW w AS (ORDER BY rowid))`).Scan(&rows, &disorder); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || disorder != 0 {
		t.Errorf("analytics.email_events after compaction: %d rows, %d out of the split's order", rows, disorder)
	}
	var next, maxID int64
	if err := wh.DB.QueryRowContext(ctx, "SELECT max(id) FROM ops.quarantine").Scan(&maxID); err != nil {
		t.Fatal(err)
	}
	if _, err := wh.DB.ExecContext(ctx, `INSERT INTO ops.quarantine (source, file, line, reason, load_date, run_id) VALUES ('web_events', 'g.csv', 1, 'bad', DATE '2026-01-02', 'r2')`); err != nil {
		t.Fatalf("quarantine insert after compaction: %v", err)
	}
	if err := wh.DB.QueryRowContext(ctx, "SELECT id FROM ops.quarantine WHERE file = 'g.csv'").Scan(&next); err != nil {
		t.Fatal(err)
	}
	if next <= maxID {
		t.Errorf("quarantine id after compaction %d, the largest before was %d: the sequence restarted", next, maxID)
	}
	wh.Close()
	if _, err := Open(ctx, &cfg, Options{SQL: wh.SQL, Secrets: &keys.Secrets{Pepper: []byte("other")}}); err == nil {
		t.Error("a compacted warehouse opened with another pepper")
	}
}

func TestCompactNoWarehouse(t *testing.T) {
	if _, err := Compact(context.Background(), t.TempDir(), config.DuckDB{}, nil); err == nil {
		t.Error("compacting an empty folder succeeded")
	}
}
