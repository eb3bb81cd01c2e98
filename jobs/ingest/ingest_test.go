package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/phone/phonetest"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/internal/warehouse/whtest"
	"github.com/parcours/parcours/orchestration"
)

// harness is a warehouse and an input folder on disk.
type harness struct {
	t     *testing.T
	input string
	cfg   config.Config
	wh    *warehouse.Warehouse
}

func newHarness(t *testing.T, tweaks ...func(*config.Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Input = filepath.Join(dir, "data")
	for _, f := range tweaks {
		f(&cfg)
	}
	wh := whtest.Open(t, &cfg, func(o *warehouse.Options) {
		o.Secrets = &keys.Secrets{Pepper: []byte("test-pepper-test-pepper-test-pep")}
	})
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
	return h.runLogged(date, zerolog.Nop())
}

func (h *harness) runLogged(date string, log zerolog.Logger) (orchestration.Counts, error) {
	h.t.Helper()
	d, _ := time.Parse(time.DateOnly, date)
	env := &orchestration.Env{Date: d, RunID: "run-" + date, Config: &h.cfg, WH: h.wh, Log: log}
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
		"SELECT item_count FROM landing.pos_transactions WHERE order_id='R1'":            "3",
		"SELECT rows_read FROM ops.ingest_files WHERE source='pos_transactions'":         "4",
		"SELECT verbatim FROM landing.surveys WHERE response_id='S1'":                    "Great, really.\nSecond line, with \"quotes\"",
		"SELECT status FROM ops.ingest_files WHERE source='email_events'":                "failed",
		"SELECT count(*) FROM landing.email_events":                                      "0",
		// The ledger's other columns, as the files were recorded.
		"SELECT CAST(extra_columns AS VARCHAR) FROM ops.ingest_files WHERE extra_columns IS NOT NULL":       "[new_thing]",
		"SELECT count(*) FROM ops.ingest_files WHERE source='email_events' AND error IS NOT NULL":           "1",
		"SELECT count(*) FROM ops.ingest_files WHERE CAST(folder_date AS VARCHAR) <> left(file, 10)":        "0",
		"SELECT count(*) FROM ops.ingest_files WHERE size_bytes <= 0 OR modified_at IS NULL OR run_id = ''": "0",
	}
	for q, want := range checks {
		if got := h.one(q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
}

// TestSourceIngestedLogsScan: each source's summary line says how long its
// scan into landing took, a part of its whole time (the bench compares it
// with the typed read).
func TestSourceIngestedLogsScan(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-22", "web_events.jsonl", web("e1", "2026-11-22T10:00:00Z", "page_view", "")+web("e2", "2026-11-22T10:01:00Z", "page_view", ""))
	var buf bytes.Buffer
	if _, err := h.runLogged("2026-11-22", zerolog.New(&buf)); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(buf.String(), "\n") {
		var l struct {
			Msg    string   `json:"message"`
			Source string   `json:"source"`
			Dur    float64  `json:"duration_s"`
			Scan   *float64 `json:"scan_s"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "source ingested" || l.Source != "web_events" {
			continue
		}
		found = true
		if l.Scan == nil || *l.Scan <= 0 || *l.Scan > l.Dur {
			t.Errorf("scan_s = %v, duration_s = %v: want 0 < scan_s <= duration_s", l.Scan, l.Dur)
		}
	}
	if !found {
		t.Fatalf("no source ingested line for web_events in:\n%s", buf.String())
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

// An unclosed quote on row 96 of a 100-row file once made four rows
// vanish inside one quarantined "row" (read 96, loaded 95, quarantined
// 1). Every physical line is now accounted for.
func TestIngestUnclosedQuoteLosesNothing(t *testing.T) {
	h := newHarness(t)
	var b strings.Builder
	b.WriteString("response_id,ts,customer_id,email,nps,csat,verbatim,channel\n")
	for i := 1; i <= 100; i++ {
		verbatim := fmt.Sprintf("fine %d", i)
		if i == 96 {
			verbatim = `"never closed`
		}
		fmt.Fprintf(&b, "S%d,2026-11-22T10:00:00Z,C%d,,7,4,%s,web\n", i, i, verbatim)
	}
	h.write("2026-11-22", "surveys.csv", b.String())
	h.cfg.Ingest.RejectThreshold = 0.9
	if _, err := h.run("2026-11-22"); err != nil {
		t.Fatal(err)
	}
	if got := h.one("SELECT rows_read || ' ' || rows_loaded || ' ' || rows_quarantined FROM ops.ingest_files WHERE source = 'surveys'"); got != "100 95 5" {
		t.Fatalf("read loaded quarantined = %s, want 100 95 5", got)
	}
	if got := h.one("SELECT count(*) FROM landing.surveys"); got != "95" {
		t.Fatalf("landing holds %s rows", got)
	}
	if got := h.one("SELECT string_agg(line, ',' ORDER BY line) FROM ops.quarantine"); got != "97,98,99,100,101" {
		t.Fatalf("quarantined lines %s, want 97 to 101 (header is line 1)", got)
	}
	if got := h.one("SELECT raw FROM ops.quarantine WHERE line = 99"); got != "S98,2026-11-22T10:00:00Z,C98,,7,4,fine 98,web" {
		t.Fatalf("line 99 quarantined as %q", got)
	}
	if got := h.one("SELECT reason FROM ops.quarantine WHERE line = 101"); got != "line 101: inside a quote opened on line 97 that is never closed" {
		t.Fatalf("reason %q", got)
	}
	if got := h.one("SELECT strpos(raw, chr(10)) FROM ops.quarantine WHERE line = 97"); got != "0" {
		t.Fatal("the row at the quote still carries the rest of the file")
	}
}

// Compressed extracts are told by their bytes, not their names: a gzip or
// zstd file named .csv loads like the plain file; an archive fails with a
// sentence, and the ledger records it cleanly (no binary, no job stuck).
func TestIngestCompressedInput(t *testing.T) {
	body := "receipt_id,store_id,ts,loyalty_card,items,amount,discount,payment\n" +
		"R1,S01,2026-11-22 14:03:11,,P001:1:1.00,1.00,0,card\n" +
		"R2,S01,bad,,P001:1:1.00,1.00,0,card\n" +
		"R3,S01,2026-11-22 15:00:00,,P001:2:1.00,2.00,0,cash\n"
	plain := newHarness(t)
	plain.cfg.Ingest.RejectThreshold = 0.9
	plain.write("2026-11-22", "pos_transactions.csv", body)
	if _, err := plain.run("2026-11-22"); err != nil {
		t.Fatal(err)
	}
	want := plain.one("SELECT string_agg(order_id || amount, ',' ORDER BY order_id) FROM landing.pos_transactions") +
		plain.one("SELECT string_agg(line || reason, ',') FROM ops.quarantine")
	for _, comp := range []string{"gzip", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.Ingest.RejectThreshold = 0.9
			var buf bytes.Buffer
			if comp == "gzip" {
				w := gzip.NewWriter(&buf)
				w.Write([]byte(body))
				w.Close()
			} else {
				w, _ := zstd.NewWriter(&buf)
				w.Write([]byte(body))
				w.Close()
			}
			h.write("2026-11-22", "pos_transactions.csv", buf.String())
			if _, err := h.run("2026-11-22"); err != nil {
				t.Fatal(err)
			}
			got := h.one("SELECT string_agg(order_id || amount, ',' ORDER BY order_id) FROM landing.pos_transactions") +
				h.one("SELECT string_agg(line || reason, ',') FROM ops.quarantine")
			if got != want {
				t.Fatalf("%s file loaded %q, the plain one %q", comp, got, want)
			}
		})
	}
	t.Run("zip", func(t *testing.T) {
		h := newHarness(t)
		h.write("2026-11-22", "pos_transactions.csv", "PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe binary")
		_, err := h.run("2026-11-22")
		if err == nil || !strings.Contains(err.Error(), "2026-11-22/pos_transactions.csv is a ZIP archive") {
			t.Fatalf("err = %v", err)
		}
		if got := h.one("SELECT status || ': ' || error FROM ops.ingest_files"); !strings.HasPrefix(got, "failed: ") || !strings.Contains(got, "ZIP") {
			t.Fatalf("ledger: %q", got)
		}
	})
}

// A file without its header line fails naming the missing columns, but
// never quotes its first row: that row is a customer's data.
func TestIngestHeaderErrorsQuoteNoData(t *testing.T) {
	h := newHarness(t)
	row := "C10000104,benjamin.simon42@gmail.com,07.99.12.34.56,Benjamin,Simon,1960-10-10,75011,Paris,,web,2026-01-01 10:00:00,2026-01-01 10:00:00\n"
	h.write("2026-11-22", "crm_customers.csv", row+row)
	h.write("2026-11-22", "email_events.csv", "event_id,campaign_id,event,ts\nE1,K1,open,2026-11-22T10:00:00Z\n")
	_, err := h.run("2026-11-22")
	if err == nil {
		t.Fatal("no error")
	}
	for _, pii := range []string{"benjamin", "Benjamin", "Simon", "07.99", "C10000104", "1960"} {
		if strings.Contains(err.Error(), pii) || strings.Contains(h.one("SELECT string_agg(error, ' ') FROM ops.ingest_files"), pii) {
			t.Errorf("the error quotes %q: %v", pii, err)
		}
	}
	if !strings.Contains(err.Error(), "2026-11-22/crm_customers.csv: missing required column customer_id, created_at, updated_at (the first row does not look like a header (12 fields))") {
		t.Errorf("err = %v", err)
	}
	// A real header is named: the user sees which columns are there.
	if !strings.Contains(err.Error(), "missing required column email (found: event_id, campaign_id, event, ts)") {
		t.Errorf("err = %v", err)
	}
}

// A date folder that is a symlink (a landing zone linked in) is loaded.
func TestIngestFollowsSymlinkedFolder(t *testing.T) {
	h := newHarness(t)
	elsewhere := filepath.Join(t.TempDir(), "landing-zone")
	os.MkdirAll(elsewhere, 0o755)
	os.WriteFile(filepath.Join(elsewhere, "web_events.jsonl"), []byte(web("w1", "2026-11-22T10:00:00Z", "page_view", "")), 0o644)
	os.MkdirAll(h.input, 0o755)
	if err := os.Symlink(elsewhere, filepath.Join(h.input, "2026-11-22")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.run("2026-11-22"); err != nil {
		t.Fatalf("symlinked folder: %v", err)
	}
	if got := h.one("SELECT count(*) FROM landing.web_events"); got != "1" {
		t.Fatalf("loaded %s rows", got)
	}
}

// Event times outside the plausible window (a clock reset to 1970, a year
// typed 2206) are quarantined, not loaded into hot or cold.
func TestIngestImplausibleDatesQuarantined(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-22", "web_events.jsonl",
		web("ok", "2026-11-22T10:00:00Z", "page_view", "")+
			web("ahead2", "2026-11-24T23:00:00Z", "page_view", "")+
			web("ahead3", "2026-11-25T01:00:00Z", "page_view", "")+
			web("epoch", "1970-01-01T00:00:00Z", "page_view", "")+
			web("typo", "2206-11-22T10:00:00Z", "page_view", ""))
	h.cfg.Ingest.RejectThreshold = 0.9
	if _, err := h.run("2026-11-22"); err != nil {
		t.Fatal(err)
	}
	if got := h.one("SELECT string_agg(event_id, ',' ORDER BY event_id) FROM landing.web_events"); got != "ahead2,ok" {
		t.Fatalf("loaded %s", got)
	}
	if got := h.one("SELECT string_agg(line || ' ' || reason, '; ' ORDER BY line) FROM ops.quarantine"); got !=
		"3 ts: outside the plausible window 1990-01-01 to 2026-11-24: '2026-11-25T01:00:00Z'; "+
			"4 ts: outside the plausible window 1990-01-01 to 2026-11-24: '1970-01-01T00:00:00Z'; "+
			"5 ts: outside the plausible window 1990-01-01 to 2026-11-24: '2206-11-22T10:00:00Z'" {
		t.Fatalf("quarantine: %s", got)
	}
}

// An email that is not one never becomes an identifier: dropped from a
// CRM row (the customer is kept) and counted, or the row quarantined
// where the email is what the row is about.
func TestIngestInvalidEmails(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-22", "crm_customers.csv", "customer_id,email,phone,first_name,last_name,birth_date,postcode,city,loyalty_card,signup_channel,created_at,updated_at\n"+
		"C1,Ann@Example.com,,Ann,,,,,,web,2026-11-01 10:00:00,2026-11-01 10:00:00\n"+
		"C2,n/a,,Bob,,,,,,web,2026-11-01 10:00:00,2026-11-01 10:00:00\n"+
		"C3,bob at example.com,,Bob,,,,,,web,2026-11-01 10:00:00,2026-11-01 10:00:00\n")
	h.write("2026-11-22", "email_events.csv", "event_id,campaign_id,email,event,ts\n"+
		"E1,K1,ann@example.com,open,2026-11-22T10:00:00Z\nE2,K1,unknown,open,2026-11-22T10:00:00Z\n")
	h.write("2026-11-22", "consents.csv", "consent_id,subject_id,subject_type,purpose,status,ts,expires_at,source\n"+
		"K1,ann@example.com,email,analytics,granted,2026-11-22T10:00:00Z,,web\n"+
		"K2,0612345678,email,analytics,granted,2026-11-22T10:00:00Z,,web\n"+
		"K3,0612345678,phone,analytics,granted,2026-11-22T10:00:00Z,,web\n")
	h.cfg.Ingest.RejectThreshold = 0.9
	if _, err := h.run("2026-11-22"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"SELECT string_agg(customer_id || '=' || coalesce(email, '-'), ',' ORDER BY customer_id) FROM landing.crm_customers": "C1=ann@example.com,C2=-,C3=-",
		"SELECT CAST(nulled AS VARCHAR) FROM ops.ingest_files WHERE source = 'crm_customers'":                                `{"email: not an email address":2}`,
		"SELECT rows_loaded || '/' || rows_quarantined FROM ops.ingest_files WHERE source = 'crm_customers'":                 "3/0",
		"SELECT string_agg(event_id, ',') FROM landing.email_events":                                                         "E1",
		"SELECT string_agg(consent_id, ',' ORDER BY consent_id) FROM landing.consents":                                       "K1,K3",
		"SELECT string_agg(source || ':' || line || ':' || field, ',' ORDER BY source) FROM ops.quarantine":                  "consents:3:subject_id,email_events:3:email",
	} {
		if got := h.one(q); got != want {
			t.Errorf("%s\n = %q, want %q", q, got, want)
		}
	}
}

// Enum values land lower-cased whatever case the extract writes them in
// (the spelling of the contract takes a shortcut), and typed emails come
// normalised.
func TestIngestEnumsAnyCase(t *testing.T) {
	h := newHarness(t)
	h.write("2026-11-22", "email_events.csv", "event_id,campaign_id,email,event,ts\n"+
		"E1,K1,ann@example.com,open,2026-11-22T10:00:00Z\n"+
		"E2,K1,ann@example.com,OPEN,2026-11-22T10:00:00Z\n"+
		"E3,K1, Ann@Example.COM , Click ,2026-11-22T10:00:00Z\n"+
		"E4,K1,ann@example.com,Bounce,2026-11-22T10:00:00Z\n"+
		"E5,K1,ann@example.com,opened,2026-11-22T10:00:00Z\n")
	h.cfg.Ingest.RejectThreshold = 0.9
	if _, err := h.run("2026-11-22"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"SELECT string_agg(event_id || '=' || event || ':' || email, ',' ORDER BY event_id) FROM landing.email_events": "E1=open:ann@example.com,E2=open:ann@example.com,E3=click:ann@example.com,E4=bounce:ann@example.com",
		"SELECT string_agg(source || ':' || line || ':' || field, ',') FROM ops.quarantine":                            "email_events:6:event",
	} {
		if got := h.one(q); got != want {
			t.Errorf("%s\n = %q, want %q", q, got, want)
		}
	}
}

// Phones load in E.164 by the shared golden vectors, each read in its
// region (config region), the same way activation normalises them.
func TestPhoneGoldenVectors(t *testing.T) {
	vs, err := phonetest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range phonetest.Regions(vs) {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *config.Config) { c.Region = region })
			var b strings.Builder
			b.WriteString("contact_id,ts,phone,resolved\n")
			want := map[string]string{}
			for _, v := range vs {
				if v.Region != region {
					continue
				}
				id := fmt.Sprintf("L%d", v.Line)
				fmt.Fprintf(&b, "%s,2026-11-22T10:00:00Z,\"%s\",true\n", id, v.Input)
				want[id] = v.E164
			}
			h.write("2026-11-22", "callcenter_contacts.csv", b.String())
			if _, err := h.run("2026-11-22"); err != nil {
				t.Fatal(err)
			}
			rows, err := h.wh.DB.Query("SELECT contact_id, coalesce(phone, '') FROM landing.callcenter_contacts")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var id, got string
				if err := rows.Scan(&id, &got); err != nil {
					t.Fatal(err)
				}
				n++
				w := want[id]
				if w == phonetest.Invalid {
					w = ""
				}
				if got != w {
					t.Errorf("vectors.tsv:%s (%s): loaded %q, want %q", id[1:], region, got, w)
				}
			}
			if n != len(want) {
				t.Errorf("%d rows loaded, want %d", n, len(want))
			}
		})
	}
}

// A file two sources' globs match stops ingest before anything loads.
func TestFileOfTwoSources(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Sources = config.SourceList{{Name: "more_consents", Kind: "consents", Files: "consents*.csv"}}
	})
	h.write("2026-11-22", "consents.csv", "consent_id,subject_id,subject_type,purpose,status,ts\nK1,C1,customer_id,analytics,granted,2026-11-22T10:00:00Z\n")
	_, err := h.run("2026-11-22")
	if err == nil || !strings.Contains(err.Error(), "2026-11-22/consents.csv matches the files of sources consents and more_consents") {
		t.Fatalf("err = %v", err)
	}
	if n := h.one("SELECT count(*) FROM ops.ingest_files"); n != "0" {
		t.Errorf("%s files recorded", n)
	}
}
