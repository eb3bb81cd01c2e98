package main

// A company's own extracts described in parcours.yaml: the mapping's SQL,
// value maps, filters, layouts, encodings and compression, checked on
// files written by hand in the shapes real exports have.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// latin1 encodes text as ISO-8859-1, as spreadsheets on Windows save it.
func latin1(t *testing.T, s string) string {
	t.Helper()
	b, err := charmap.ISO8859_1.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// userMapping is a French shop's configuration: a CRM export saved by a
// spreadsheet (Latin-1, semicolons, US dates, French headers), an order
// export (gzipped, day-first times, refunds in their own column) and
// order lines with a return, tied to customers by an account id of the
// shop's own.
const userMapping = `privacy:
  analytics_basis: legitimate_interest
ingest:
  reject_threshold: 0.5
sources:
  - name: crm
    kind: customers
    files: "Clients_export*.csv"
    delimiter: ";"
    encoding: latin-1
    timestamp_format: "%m/%d/%Y %I:%M %p"
    date_format: "%m/%d/%Y"
    columns:
      customer_id: Numéro client
      email: Courriel
      first_name: Prénom
      last_name: Nom
      birth_date: Né(e) le
      postcode: Code postal
      city: Ville
      signup_channel: Canal
      created_at: Inscrit le
    values:
      signup_channel: {"Site web": web, "Magasin": store}
    where: "Statut <> 'test'"
  - name: shop_orders
    kind: orders
    files: "orders_*.csv*"
    occurred_at: "strptime(created, '%d/%m/%Y %H:%M')"
    columns:
      order_id: id
      amount: "total_price - coalesce(refunded, 0)"
      discount: refunded
      currency: "'EUR'"
      channel: channel
    values:
      channel: {"Online": web, "Marketplace": marketplace}
    ids:
      - select: customer_ref
        type: customer_id
      - select: "lower(trim(email))"
        type: email
      - select: account
        type: account_id
    where: "status <> 'test'"
    key: [id]
  - name: shop_lines
    kind: order_lines
    files: "lines_*.csv"
    columns:
      order_id: order_no
      product_id: sku
      quantity: qty
      unit_price: price
      ts: sold_at
    ids:
      - select: account
        type: account_id
`

func userExtracts(t *testing.T) string {
	crm := strings.Join([]string{
		"Numéro client;Courriel;Prénom;Nom;Né(e) le;Code postal;Ville;Canal;Inscrit le;Statut",
		"C-001;  Helene.Dupont@Example.FR ;Hélène;Dupont;03/14/1985;75011;Paris;Site web;11/21/2026 03:04 PM;actif",
		"C-002;zoe@example.com;Zoë;Müller;12/01/1990;69003;Lyon;Magasin;11/22/2026 09:30 AM;actif",
		"C-003;test@example.com;Test;Test;01/01/2000;75001;Paris;Site web;11/22/2026 10:00 AM;test",
		"C-004;pas-un-email;Jean;Bon;07/04/1976;13001;Marseille;Magasin;11/22/2026 11:00 AM;actif",
		"C-005;ann@example.com;Ann;Bad;;75001;Paris;Site web;22/11/2026 11:00;actif",
	}, "\r\n") + "\r\n"
	orders := strings.Join([]string{
		"id,customer_ref,email,created,total_price,refunded,channel,status,account",
		"1001,C-001,,22/11/2026 10:15,49.90,,Online,paid,A-77",
		"1002,C-002,zoe@example.com,22/11/2026 11:00,30.00,10.00,Marketplace,partially_refunded,",
		"1003,,guest@example.org,22/11/2026 12:00,15.00,,Online,test,",
		"1004,C-001,,22/11/2026 13:00,n/a,,Online,paid,",
		"1005,, GUEST@Example.org ,22/11/2026 14:00,12.00,,Online,paid,",
	}, "\n") + "\n"
	lines := "order_no,sku,qty,price,sold_at,account\n" +
		"L-1,SKU-1,2,10.00,2026-11-22T15:00:00Z,A-77\n" +
		"L-1,SKU-2,1,5.00,2026-11-22T15:00:00Z,A-77\n" +
		"L-1,SKU-1,-1,10.00,2026-11-22T16:00:00Z,A-77\n"
	// The built-in web events: Hélène's purchase of order 1001, which the
	// order export also holds.
	web := `{"event_id":"w-1","ts":"2026-11-22T09:00:00Z","session_id":"s1","cookie_id":"ck-1","user_id":null,"event":"page_view","page":"/","currency":"EUR"}` + "\n" +
		`{"event_id":"w-2","ts":"2026-11-22T09:14:00Z","session_id":"s1","cookie_id":"ck-1","user_id":"C-001","event":"purchase","page":"/thanks","order_id":"1001","amount":"49.90","currency":"EUR"}` + "\n"
	return extracts(t, presetDay, map[string]string{
		"Clients_export.csv":          latin1(t, crm),
		"orders_2026-11-22.csv.gz":    gzipped(t, orders),
		"orders_2026-11-22_part2.csv": "",
		"lines_2026-11-22.csv":        lines,
		"web_events.jsonl":            web,
		"LISEZMOI.txt":                "exports du 22/11\n",
	})
}

// The mapping loads exactly the rows worked out beside the files.
func TestUserMapping(t *testing.T) {
	data := userExtracts(t)
	cfg := writeFile(t, userMapping)
	wh := filepath.Join(t.TempDir(), "wh")
	r := loadNight(t, cfg, data, wh, presetDay)

	// CRM: C-003 is a test record (filtered), C-005's time is day-first
	// where the layout says US (quarantined), C-004's email is not one
	// (dropped from the row, counted). Orders: 1003 filtered, 1004's
	// total is not a number (quarantined). The empty part2 file and the
	// README are reported, not silently skipped.
	sameRows(t, "files", queryCSV(t, wh, `SELECT source, file, status, rows_read, rows_loaded, rows_quarantined, rows_duplicate,
       coalesce(rows_filtered, 0), coalesce(CAST(nulled AS VARCHAR), '')
FROM ops.ingest_files ORDER BY file`), [][]string{
		{"crm", "2026-11-22/Clients_export.csv", "loaded", "5", "3", "1", "0", "1", `{"email: not an email address":1}`},
		{"(unmatched)", "2026-11-22/LISEZMOI.txt", "unmatched", "0", "0", "0", "0", "0", ""},
		{"shop_lines", "2026-11-22/lines_2026-11-22.csv", "loaded", "3", "3", "0", "0", "0", ""},
		{"shop_orders", "2026-11-22/orders_2026-11-22.csv.gz", "loaded", "5", "3", "1", "0", "1", ""},
		{"shop_orders", "2026-11-22/orders_2026-11-22_part2.csv", "empty", "0", "0", "0", "0", "0", ""},
		{"web_events", "2026-11-22/web_events.jsonl", "loaded", "2", "2", "0", "0", "0", ""},
	})
	sameRows(t, "quarantine", queryCSV(t, wh, `SELECT source, line, field, reason FROM ops.quarantine ORDER BY source`), [][]string{
		{"crm", "6", "created_at", "created_at: not a valid local timestamp: '22/11/2026 11:00'"},
		{"shop_orders", "5", "amount", "amount: required field is missing"},
	})
	for _, want := range []string{"no source matches this file", "empty file (0 bytes)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	st := mustCLI(t, "status", "--warehouse", wh, "--date", presetDay).stdout
	for _, want := range []string{"(unmatched)", "2026-11-22/LISEZMOI.txt: unmatched", "2026-11-22/orders_2026-11-22_part2.csv: empty"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}

	helene := customerOf(t, wh, "customer_id", "C-001")
	zoe := customerOf(t, wh, "customer_id", "C-002")
	guest := customerOf(t, wh, "email", "guest@example.org")
	if helene == "" || zoe == "" || guest == "" {
		t.Fatalf("customers: C-001 %q, C-002 %q, guest %q", helene, zoe, guest)
	}
	for _, id := range [][2]string{{"email", "helene.dupont@example.fr"}, {"account_id", "A-77"}, {"cookie_id", "ck-1"}} {
		if got := customerOf(t, wh, id[0], id[1]); got != helene {
			t.Errorf("%s %s belongs to %q, want C-001's customer", id[0], id[1], got)
		}
	}
	who := fmt.Sprintf("CASE customer_key WHEN '%s' THEN 'helene' WHEN '%s' THEN 'zoe' WHEN '%s' THEN 'guest' ELSE customer_key END", helene, zoe, guest)
	// Order 1001 is both Hélène's web purchase and a row of the export: it
	// counts once, as the export records it. The lines of L-1 make one
	// order: 2 x 10.00 + 5.00 - 10.00 returned = 15.00, 2 items.
	sameRows(t, "orders", queryCSV(t, wh, fmt.Sprintf(`
SELECT order_id, channel, CAST(amount AS VARCHAR), coalesce(CAST(discount AS VARCHAR), ''), coalesce(CAST(items AS VARCHAR), ''),
       strftime(ts AT TIME ZONE 'Europe/Paris', '%%Y-%%m-%%d %%H:%%M'), %s
FROM analytics.orders ORDER BY order_id`, who)), [][]string{
		{"1001", "web", "49.90", "0.00", "", "2026-11-22 10:15", "helene"},
		{"1002", "marketplace", "20.00", "10.00", "", "2026-11-22 11:00", "zoe"},
		{"1005", "web", "12.00", "0.00", "", "2026-11-22 14:00", "guest"},
		{"L-1", "web", "15.00", "0.00", "2", "2026-11-22 16:00", "helene"},
	})
	// The CRM's Latin-1 names and US dates, through the vault's
	// generalised profile: region from the postcode, birth year, channel.
	sameRows(t, "profiles", queryCSV(t, wh, fmt.Sprintf(`
SELECT %s AS who, region, birth_year, signup_channel, strftime(created_at AT TIME ZONE 'Europe/Paris', '%%Y-%%m-%%d %%H:%%M')
FROM analytics.customer_profile WHERE customer_key IN ('%s', '%s') ORDER BY who`, who, helene, zoe)), [][]string{
		{"helene", "Île-de-France", "1985", "web", "2026-11-21 15:04"},
		{"zoe", "Auvergne-Rhône-Alpes", "1990", "store", "2026-11-22 09:30"},
	})
	sameRows(t, "names in the vault", queryCSV(t, wh, `SELECT count(*) FROM vault.pii`), [][]string{{"3"}})
}

// A mapping that cannot work stops the night before anything loads, with
// exit 2 and a message naming the source and the key.
func TestBadMappings(t *testing.T) {
	data := userExtracts(t)
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown column", `amount: "total_price - coalesce(refunded, 0)"`, `amount: total`,
			`source shop_orders: columns.amount: 2026-11-22/orders_2026-11-22.csv.gz has no column "total"`},
		{"unknown column in SQL", `amount: "total_price - coalesce(refunded, 0)"`, `amount: "totl_price - coalesce(refunded, 0)"`,
			`source shop_orders: columns.amount: Binder Error: Referenced column "totl_price" not found`},
		{"SQL error", `"status <> 'test'"`, `"status <> 'test"`, `source shop_orders: where:`},
		{"unknown kind", "kind: order_lines", "kind: lines", `source shop_lines: kind: "lines" is not a kind`},
		{"missing required field", "      quantity: qty\n", "",
			"source shop_lines: columns.quantity: required by kind order_lines, and no file has a column quantity"},
		{"unknown field", "      unit_price: price\n", "      unit_price: price\n      price_each: price\n",
			`source shop_lines: columns: "price_each" is not a field of kind order_lines`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(userMapping, tc.from) {
				t.Fatalf("the mapping has no %q", tc.from)
			}
			cfg := writeFile(t, strings.Replace(userMapping, tc.from, tc.to, 1))
			wh := filepath.Join(t.TempDir(), "wh")
			r := cli(t, nil, "run", "split", "--with-upstream", "--config", cfg, "--date", presetDay, "--input", data, "--warehouse", wh)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want 2 and %q in:\n%s", r.code, tc.want, tail(r.stderr, 5))
			}
			if _, err := os.Stat(filepath.Join(wh, "hot.duckdb")); err == nil {
				if n := queryCSV(t, wh, "SELECT count(*) FROM ops.ingest_files WHERE status = 'loaded'")[0][0]; n != "0" {
					t.Errorf("%s files loaded before the mapping was refused", n)
				}
			}
		})
	}
}

// Under the default lawful basis (consent), a night with no consents
// source says so, with the count, at warn level; one whose consents
// source has no file yet says that instead.
func TestNoConsentsWarns(t *testing.T) {
	data := userExtracts(t)
	for _, tc := range []struct {
		name, extra, want string
	}{
		{"no source", "  - name: consents\n    enabled: false\n", "no consents source configured: 0 of 4 customers may be analysed"},
		{"no file", "", "no consent record loaded yet (no consents file in the extracts): 0 of 4 customers may be analysed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFile(t, strings.Replace(userMapping, "  analytics_basis: legitimate_interest\n", "", 1)+tc.extra)
			wh := filepath.Join(t.TempDir(), "wh")
			r := loadNight(t, cfg, data, wh, presetDay)
			if !strings.Contains(r.stderr, `"level":"warn"`) || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("no warning %q in:\n%s", tc.want, tail(r.stderr, 40))
			}
			sameRows(t, "hot orders", queryCSV(t, wh, "SELECT count(*) FROM analytics.orders"), [][]string{{"0"}})
			sameRows(t, "audit", queryCSV(t, wh, "SELECT action, rows FROM ops.privacy_audit WHERE action = 'analytics_basis'"),
				[][]string{{"analytics_basis", "0"}})
		})
	}
}

// sources list prints the effective sources; its YAML reads back as the
// same sources (presets expanded, so it loads without them).
func TestSourcesList(t *testing.T) {
	cfg := writeFile(t, userMapping+`  - name: segment
    preset: segment
    files: "segment_*.jsonl"
  - name: consents
    enabled: false
`)
	table := mustCLI(t, "sources", "list", "--config", cfg).stdout
	for _, want := range []string{"crm_customers", "built-in", "shop_orders", "config", "preset segment"} {
		if !strings.Contains(table, want) {
			t.Errorf("list lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "consents ") {
		t.Errorf("a disabled source is listed:\n%s", table)
	}
	cfg = writeFile(t, userMapping+`  - name: segment
    preset: segment
    files: "segment_*.jsonl"
`)
	y := mustCLI(t, "sources", "list", "--config", cfg, "--yaml").stdout
	again := writeFile(t, y)
	j1 := mustCLI(t, "sources", "list", "--config", cfg, "--json").stdout
	j2 := mustCLI(t, "sources", "list", "--config", again, "--json").stdout
	if j1 != j2 {
		t.Errorf("the listed YAML does not read back as the same sources:\n%s\n---\n%s", j1, j2)
	}
}
