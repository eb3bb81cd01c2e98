package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/sqlfiles"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// harness is a warehouse and an input folder on disk.
type harness struct {
	t     *testing.T
	input string
	cfg   config.Config
	wh    *warehouse.Warehouse
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Input = filepath.Join(dir, "data")
	cfg.Warehouse = filepath.Join(dir, "wh")
	sqls, err := sqlfiles.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	wh, err := warehouse.Open(context.Background(), &cfg, warehouse.Options{SQL: sqls,
		Secrets: &keys.Secrets{Pepper: []byte("test-pepper-test-pepper-test-pep")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return &harness{t: t, input: cfg.Input, cfg: cfg, wh: wh}
}

func (h *harness) write(date, name, body string) {
	h.t.Helper()
	p := filepath.Join(h.input, date, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) run(date string) (orchestration.Counts, error) {
	h.t.Helper()
	d, _ := time.Parse(time.DateOnly, date)
	env := &orchestration.Env{Date: d, RunID: "run-" + date, Config: &h.cfg, WH: h.wh, Log: zerolog.Nop()}
	return New().Run(context.Background(), env)
}

func (h *harness) one(q string, args ...any) string {
	h.t.Helper()
	var s sql.NullString
	if err := h.wh.DB.QueryRow("SELECT CAST(x AS VARCHAR) FROM ("+q+") t(x)", args...).Scan(&s); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

func web(id, ts, event string, extra string) string {
	return `{"event_id":"` + id + `","ts":"` + ts + `","session_id":"s","cookie_id":"ck","event":"` + event + `"` + extra + "}\n"
}

func TestIngestQuarantinesAndLosesNothing(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-21", "web_events.jsonl",
		web("w1", "2026-11-21T10:00:00Z", "page_view", "")+
			web("w2", "2026-11-21T10:01:00Z", "purchase", `,"order_id":"o1","amount":12.5`)+
			`{"event_id":"w3","ts":"2026-11-21T10:0`+"\n"+ // truncated line
			web("w4", "2026-13-45T99:00:00Z", "page_view", "")+
			web("w5", "2026-11-21T10:05:00Z", "purchase", `,"amount":"12,50€","order_id":"o2"`)+
			web("w6", "2026-11-21T10:06:00Z", "page_view", `,"new_thing":"x"`))
	h.write("2026-11-22", "web_events.jsonl",
		web("w2", "2026-11-21T10:01:00Z", "purchase", `,"order_id":"o1","amount":12.5`)+ // re-delivered
			web("w7", "2026-11-21T23:30:00Z", "page_view", "")+ // late: 00:30 in Paris on the 22nd
			web("w7", "2026-11-21T23:30:00Z", "page_view", "")) // twice in one file
	h.write("2026-11-22", "pos_transactions.csv", "receipt_id,store_id,ts,loyalty_card,items,amount,discount,payment\n"+
		"R1,S01,2026-11-22 14:03:11,1234567890123,P001:2:19.90|P002:1:5.00,44.80,0,card\n"+
		"R2,S01,32/13/2026 25:61,,P001:1:19.90,19.90,0,cash\n"+
		"R3,S02,2026-11-22 15:00:00,,P001:1:19.90\n"+ // a missing field
		"R4,S02,2026-11-22 16:00:00,,P003:1:9.99,9.99,0,card\n")
	h.write("2026-11-22", "surveys.csv", "response_id,ts,customer_id,email,nps,csat,verbatim,channel\n"+
		"S1,2026-11-22T10:00:00Z,C1,,9,5,\"Great, really.\nSecond line, with \"\"quotes\"\"\",web\n"+
		"S2,2026-11-22T10:00:00Z,C2,,11,5,too high,web\n"+
		"S3,2026-11-22T10:00:00Z,,,7,,no id,web\n")
	h.write("2026-11-22", "email_events.csv", "event_id,campaign_id,event,ts\nE1,K1,open,2026-11-22T10:00:00Z\n") // no email column
	h.cfg.Ingest.RejectThreshold = 0.9

	_, err := h.run("2026-11-22")
	if err == nil || !strings.Contains(err.Error(), "2026-11-22/email_events.csv: missing required column email") {
		t.Fatalf("err = %v, want the missing email column named with its file", err)
	}

	type q struct {
		file   string
		line   int64
		field  string
		reason string
	}
	rows, err := h.wh.DB.Query("SELECT file, line, coalesce(field, ''), reason FROM ops.quarantine ORDER BY file, line")
	if err != nil {
		t.Fatal(err)
	}
	var got []q
	for rows.Next() {
		var r q
		if err := rows.Scan(&r.file, &r.line, &r.field, &r.reason); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []q{
		{"2026-11-21/web_events.jsonl", 3, "", "invalid JSON: truncated or malformed line"},
		{"2026-11-21/web_events.jsonl", 4, "ts", "ts: not a valid timestamp: '2026-13-45T99:00:00Z'"},
		{"2026-11-21/web_events.jsonl", 5, "amount", "amount: not a valid decimal: '12,50€'"},
		{"2026-11-22/pos_transactions.csv", 3, "ts", "ts: not a valid local timestamp: '32/13/2026 25:61'"},
		{"2026-11-22/pos_transactions.csv", 4, "", "line 4: missing columns"},
		{"2026-11-22/surveys.csv", 4, "nps", "nps: above the maximum 10: '11'"},
		{"2026-11-22/surveys.csv", 5, "customer_id", "customer_id: a response needs customer_id or email"},
	}
	if len(got) != len(want) {
		t.Fatalf("quarantine has %d rows, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].file != want[i].file || got[i].line != want[i].line || got[i].field != want[i].field ||
			!strings.HasPrefix(got[i].reason, want[i].reason) {
			t.Errorf("quarantine row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Nothing lost: per file, read = loaded + quarantined + duplicates, and
	// the landing tables hold exactly the loaded rows.
	if n := h.one(`SELECT count(*) FROM ops.ingest_files WHERE status = 'loaded'
		AND rows_read <> rows_loaded + rows_quarantined + rows_duplicate`); n != "0" {
		t.Fatalf("%s files do not add up", n)
	}
	checks := map[string]string{
		"SELECT count(*) FROM landing.web_events":                                        "4", // w1 w2 w6 w7
		"SELECT sum(rows_loaded) FROM ops.ingest_files WHERE source='web_events'":        "4",
		"SELECT sum(rows_duplicate) FROM ops.ingest_files WHERE source='web_events'":     "2",
		"SELECT sum(rows_read) FROM ops.ingest_files WHERE source='web_events'":          "9",
		"SELECT _file FROM landing.web_events WHERE event_id='w2'":                       "2026-11-21/web_events.jsonl",
		"SELECT CAST(event_date AS VARCHAR) FROM landing.web_events WHERE event_id='w7'": "2026-11-22",
		"SELECT _extra->>'new_thing' FROM landing.web_events WHERE event_id='w6'":        "x",
		"SELECT count(*) FROM landing.pos_transactions":                                  "2",
		"SELECT item_count FROM landing.pos_transactions WHERE receipt_id='R1'":          "3",
		"SELECT rows_read FROM ops.ingest_files WHERE source='pos_transactions'":         "4",
		"SELECT verbatim FROM landing.surveys WHERE response_id='S1'":                    "Great, really.\nSecond line, with \"quotes\"",
		"SELECT status FROM ops.ingest_files WHERE source='email_events'":                "failed",
		"SELECT count(*) FROM landing.email_events":                                      "0",
	}
	for q, want := range checks {
		if got := h.one(q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
}

func TestIngestThresholdFailsSource(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-22", "pos_transactions.csv", "receipt_id,store_id,ts,loyalty_card,items,amount,discount,payment\n"+
		"R1,S01,2026-11-22 14:03:11,,P001:1:1.00,1.00,0,card\n"+
		"R2,S01,bad,,P001:1:1.00,1.00,0,card\n")
	h.write("2026-11-22", "stores.csv", "store_id,name,city,postcode,region\nS01,Paris 11,Paris,75011,Île-de-France\n")
	_, err := h.run("2026-11-22")
	if err == nil || !strings.Contains(err.Error(), "pos_transactions: 50.0% of 2 rows rejected (threshold 5.0%)") ||
		!strings.Contains(err.Error(), "2026-11-22/pos_transactions.csv: ts: not a valid local timestamp (1)") {
		t.Fatalf("err = %v", err)
	}
	if n := h.one("SELECT count(*) FROM landing.pos_transactions"); n != "0" {
		t.Fatalf("a source over its threshold must not load, got %s rows", n)
	}
	if n := h.one("SELECT count(*) FROM ops.quarantine"); n != "1" {
		t.Fatalf("its rejected rows stay inspectable in quarantine, got %s", n)
	}
	if n := h.one("SELECT count(*) FROM landing.stores"); n != "1" {
		t.Fatalf("other sources still load, got %s stores", n)
	}
}

// Running a date twice leaves every table as one run does.
func TestIngestRerunIsIdempotent(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-21", "web_events.jsonl", web("w1", "2026-11-21T10:00:00Z", "page_view", "")+"{bad\n")
	h.write("2026-11-22", "web_events.jsonl", web("w1", "2026-11-21T10:00:00Z", "page_view", "")+web("w2", "2026-11-22T10:00:00Z", "page_view", ""))
	h.write("2026-11-22", "products.csv", "product_id,name,category,brand,price\nP1,Shoe,shoes,Acme,10\n")
	h.write("2026-11-22", "marketing_spend.csv", "date,channel,spend\n2026-11-22,social,10\n")
	h.cfg.Ingest.RejectThreshold = 0.9
	sums := func() string {
		var out []string
		for _, tbl := range []string{"landing.web_events", "landing.products", "landing.marketing_spend", "ops.quarantine"} {
			c, err := warehouse.TableChecksum(context.Background(), h.wh.DB, tbl, "_run_id", "run_id", "id", "quarantined_at")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s=%d:%s", tbl, c.Rows, c.Hash))
		}
		out = append(out, h.one("SELECT string_agg(file || status || rows_read || rows_loaded || rows_quarantined || rows_duplicate, ',' ORDER BY file) FROM ops.ingest_files"))
		return strings.Join(out, "|")
	}
	if _, err := h.run("2026-11-22"); err != nil {
		t.Fatal(err)
	}
	first := sums()
	if _, err := h.run("2026-11-22"); err != nil {
		t.Fatal(err)
	}
	if again := sums(); again != first {
		t.Fatalf("rerun changed the warehouse:\n%s\n%s", first, again)
	}
	// A correction of spend for the same (date, channel) replaces it.
	h.write("2026-11-23", "marketing_spend.csv", "date,channel,spend\n2026-11-22,social,12.5\n")
	h.write("2026-11-23", "web_events.jsonl", "")
	if _, err := h.run("2026-11-23"); err != nil {
		t.Fatal(err)
	}
	if got := h.one("SELECT string_agg(CAST(spend AS VARCHAR), ',') FROM landing.marketing_spend"); got != "12.50" {
		t.Fatalf("spend = %s, want the later delivery 12.50", got)
	}
}

func TestNoFolderIsNothingToDo(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-21", "web_events.jsonl", "")
	_, err := h.run("2026-11-22")
	if orchestration.ExitCode(err) != orchestration.ExitNothingToDo {
		t.Fatalf("err = %v, want nothing to do", err)
	}
}
