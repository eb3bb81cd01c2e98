package main

// Presets against samples written from the formats' published
// specifications: each sample loads, through the CLI, into the analytics
// rows worked out by hand beside it, identity links included.

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// presetDay is the logical date of the hand-written extracts.
const presetDay = "2026-11-22"

// extracts writes files into one date folder of a fresh input folder.
func extracts(t *testing.T, day string, files map[string]string) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	dir := filepath.Join(data, day)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// loadNight runs the jobs up to the hot/cold split for a date and fails
// the test unless it succeeds.
func loadNight(t *testing.T, cfg, data, wh, day string) result {
	t.Helper()
	r := cli(t, nil, "run", "split", "--with-upstream", "--config", cfg, "--date", day, "--input", data, "--warehouse", wh)
	if r.code != 0 {
		t.Fatalf("run split: exit %d\n%s", r.code, tail(r.stderr, 30))
	}
	return r
}

// customerOf is the customer key an identifier belongs to ("" if none).
func customerOf(t *testing.T, wh, typ, value string) string {
	t.Helper()
	rows := queryCSV(t, wh, fmt.Sprintf(
		"SELECT customer_key FROM identity.customer_map WHERE id_token = pseudonym('%s', '%s') AND NOT blocked", typ, value))
	if len(rows) == 0 {
		return ""
	}
	return rows[0][0]
}

// fileCounts is a source's ops.ingest_files row: read, loaded,
// quarantined, duplicate, filtered.
func fileCounts(t *testing.T, wh, source string) []string {
	t.Helper()
	rows := queryCSV(t, wh, fmt.Sprintf(`SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_duplicate), sum(rows_filtered)
FROM ops.ingest_files WHERE source = '%s'`, source))
	return rows[0]
}

func sameRows(t *testing.T, what string, got, want [][]string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// segmentSample is the Segment messages of TestPresetSegment.
func segmentSample() string {
	lines := []string{
		`{"type":"page","messageId":"seg-01","anonymousId":"anon-A","timestamp":"2026-11-22T09:00:00.000Z","name":"Home","properties":{"path":"/","title":"Home","url":"https://shop.example/?utm_source=newsletter"},"context":{"page":{"path":"/","referrer":"https://mail.example/","url":"https://shop.example/?utm_source=newsletter"},"campaign":{"name":"black_friday","source":"newsletter","medium":"email"},"library":{"name":"analytics.js","version":"2.11.1"}},"receivedAt":"2026-11-22T09:00:01.000Z","sentAt":"2026-11-22T09:00:00.100Z","version":2}`,
		`{"type":"track","event":"Product Viewed","messageId":"seg-02","anonymousId":"anon-A","timestamp":"2026-11-22T09:01:00.000Z","properties":{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro","price":18.99,"currency":"EUR"},"context":{"page":{"path":"/p/monopoly"}}}`,
		`{"type":"identify","messageId":"seg-03","anonymousId":"anon-A","userId":"u-100","timestamp":"2026-11-22T09:02:00.000Z","traits":{"email":" Peter@Example.COM","name":"Peter Gibbons","phone":"+33 6 12 34 56 78"}}`,
		`{"type":"track","event":"Product Added","messageId":"seg-04","anonymousId":"anon-A","userId":"u-100","timestamp":"2026-11-22T09:03:00.000Z","properties":{"cart_id":"skdjsidjsdkdj29j","product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","price":18.99,"quantity":1},"context":{"page":{"path":"/p/monopoly"}}}`,
		`{"type":"track","event":"Checkout Started","messageId":"seg-05","anonymousId":"anon-A","userId":"u-100","timestamp":"2026-11-22T09:04:00.000Z","properties":{"order_id":"50314b8e9bcf000000000000","value":30,"revenue":25.00,"shipping":3,"tax":2,"currency":"EUR","products":[{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","price":18.99,"quantity":1}]},"context":{"page":{"path":"/checkout"}}}`,
		`{"type":"track","event":"Order Completed","messageId":"seg-06","anonymousId":"anon-A","userId":"u-100","timestamp":"2026-11-22T09:05:00.000Z","properties":{"checkout_id":"fksdjfsdjfisjf9sdfjsd9f","order_id":"50314b8e9bcf000000000000","affiliation":"Google Store","total":27.50,"subtotal":22.50,"revenue":25.00,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"EUR","products":[{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","name":"Monopoly: 3rd Edition","price":18.99,"quantity":1,"category":"Games"}]},"context":{"page":{"path":"/thanks"}}}`,
		`{"type":"alias","messageId":"seg-07","previousId":"anon-B","userId":"u-100","timestamp":"2026-11-22T09:06:00.000Z"}`,
		`{"type":"page","messageId":"seg-08","anonymousId":"anon-B","timestamp":"2026-11-21T20:00:00.000Z","name":"Games","properties":{"path":"/c/games"},"context":{"page":{"path":"/c/games","referrer":"https://www.google.com/"}}}`,
		`{"type":"track","event":"Newsletter Signed Up","messageId":"seg-09","anonymousId":"anon-A","userId":"u-100","timestamp":"2026-11-22T09:07:00.000Z","properties":{"list":"weekly"}}`,
		`{"type":"screen","name":"Home","messageId":"seg-10","anonymousId":"dev-9","userId":"u-200","timestamp":"2026-11-22T10:00:00.000Z","properties":{},"context":{"os":{"name":"iOS","version":"17.1"},"device":{"type":"ios","model":"iPhone15,2"},"app":{"name":"Shop","version":"4.2.0"}}}`,
		`{"type":"track","event":"Product Viewed","messageId":"seg-02","anonymousId":"anon-A","timestamp":"2026-11-22T09:01:00.000Z","properties":{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro","price":18.99,"currency":"EUR"},"context":{"page":{"path":"/p/monopoly"}}}`,
	}
	return strings.Join(lines, "\n") + "\n"
}

// The Segment Spec (segment.com/docs/connections/spec: common fields,
// page, screen, identify, alias, track, and the E-commerce v2 events
// "Product Viewed", "Product Added", "Checkout Started", "Order
// Completed"), one message per line as a warehouse or S3 destination
// writes them. Peter browses anonymously (cookie anon-A, and earlier
// anon-B), identifies as u-100 and buys; an alias call links anon-B; a
// screen call comes from an iPhone app of u-200; a non-e-commerce track
// call is filtered; one message is delivered twice.
func TestPresetSegment(t *testing.T) {
	data := extracts(t, presetDay, map[string]string{"segment_2026-11-22.jsonl": segmentSample()})
	cfg := writeFile(t, `privacy:
  analytics_basis: legitimate_interest
sources:
  - name: segment
    preset: segment
    files: "segment_*.jsonl"
`)
	wh := filepath.Join(t.TempDir(), "wh")
	loadNight(t, cfg, data, wh, presetDay)

	// 11 lines: one filtered (Newsletter Signed Up), one re-delivery, 9 loaded.
	sameRows(t, "segment counts (read, loaded, quarantined, duplicate, filtered)",
		[][]string{fileCounts(t, wh, "segment")}, [][]string{{"11", "9", "0", "1", "1"}})

	peter := customerOf(t, wh, "customer_id", "u-100")
	if peter == "" {
		t.Fatal("u-100 made no customer")
	}
	for _, id := range [][2]string{{"cookie_id", "anon-A"}, {"cookie_id", "anon-B"}, {"email", "peter@example.com"}, {"phone", "+33612345678"}} {
		if got := customerOf(t, wh, id[0], id[1]); got != peter {
			t.Errorf("%s %s belongs to %q, want u-100's customer %q", id[0], id[1], got, peter)
		}
	}
	if other := customerOf(t, wh, "customer_id", "u-200"); other == "" || other == peter {
		t.Errorf("u-200's customer %q (u-100's %q)", other, peter)
	}
	// Peter's web events: the identify and alias calls link, they are no
	// activity; revenue (without shipping and tax) is the amount.
	sameRows(t, "web events", queryCSV(t, wh, fmt.Sprintf(`
SELECT event_id, event, coalesce(page, ''), coalesce(product_id, ''), coalesce(order_id, ''), coalesce(CAST(amount AS VARCHAR), ''),
       coalesce(utm_source, ''), coalesce(utm_medium, ''), coalesce(utm_campaign, ''), customer_key = '%s'
FROM analytics.web_events ORDER BY ts`, peter)), [][]string{
		{"seg-08", "page_view", "/c/games", "", "", "", "", "", "", "true"},
		{"seg-01", "page_view", "/", "", "", "", "newsletter", "email", "black_friday", "true"},
		{"seg-02", "product_view", "/p/monopoly", "507f1f77bcf86cd799439011", "", "", "", "", "", "true"},
		{"seg-04", "add_to_cart", "/p/monopoly", "507f1f77bcf86cd799439011", "", "", "", "", "", "true"},
		{"seg-05", "checkout_start", "/checkout", "", "50314b8e9bcf000000000000", "25.00", "", "", "", "true"},
		{"seg-06", "purchase", "/thanks", "", "50314b8e9bcf000000000000", "25.00", "", "", "", "true"},
	})
	sameRows(t, "app events", queryCSV(t, wh, `SELECT event_id, event, screen, os FROM analytics.app_events ORDER BY ts`),
		[][]string{{"seg-10", "page_view", "Home", "ios"}})
	sameRows(t, "orders", queryCSV(t, wh, fmt.Sprintf(
		`SELECT order_id, channel, CAST(amount AS VARCHAR), customer_key = '%s' FROM analytics.orders`, peter)),
		[][]string{{"50314b8e9bcf000000000000", "web", "25.00", "true"}})
}

// ga4Sample is the GA4 export rows of TestPresetGA4.
func ga4Sample() string {
	param := func(k, typ, v string) string { return fmt.Sprintf(`{"key":%q,"value":{"%s_value":%s}}`, k, typ, v) }
	row := func(name, micros, pseudo, user, platform, params, extra string) string {
		uid := "null"
		if user != "" {
			uid = fmt.Sprintf("%q", user)
		}
		return fmt.Sprintf(`{"event_date":"20261122","event_timestamp":"%s","event_name":%q,"event_params":[%s],"event_previous_timestamp":null,`+
			`"event_bundle_sequence_id":"%s","user_id":%s,"user_pseudo_id":%q,"privacy_info":{"analytics_storage":"Yes","ads_storage":"Yes"},`+
			`"device":{"category":"%s","operating_system":"%s","language":"fr-fr"},"geo":{"country":"France","city":"Paris"},`+
			`"traffic_source":{"name":"(organic)","medium":"organic","source":"google"},"stream_id":"1234567890","platform":%q%s}`,
			micros, name, params, micros[:10], uid, pseudo, map[bool]string{true: "mobile", false: "desktop"}[platform != "WEB"],
			map[bool]string{true: "Android", false: "Windows"}[platform != "WEB"], platform, extra)
	}
	session := param("ga_session_id", "int", `"1795338000"`)
	item := `,"items":[{"item_id":"SKU-1","item_name":"Trail shoe","item_category":"Shoes","price":42.5,"quantity":1}]`
	lines := []string{
		row("session_start", "1795338000000000", "111.222", "", "WEB", session, ""),
		row("page_view", "1795338000100000", "111.222", "", "WEB", session+","+param("page_location", "string", `"https://shop.example/"`)+","+
			param("page_referrer", "string", `"https://www.google.com/"`), `,"collected_traffic_source":{"manual_source":"newsletter","manual_medium":"email","manual_campaign_name":"bf26"}`),
		row("view_item", "1795338060000000", "111.222", "", "WEB", session+","+param("page_location", "string", `"https://shop.example/p/trail"`), item),
		row("scroll", "1795338070000000", "111.222", "", "WEB", session+","+param("percent_scrolled", "int", `"90"`), ""),
		row("add_to_cart", "1795338120000000", "111.222", "", "WEB", session+","+param("currency", "string", `"EUR"`)+","+param("value", "double", "42.5"), item),
		row("begin_checkout", "1795338180000000", "111.222", "u-300", "WEB", session, item),
		row("purchase", "1795338240000000", "111.222", "u-300", "WEB", session+","+param("currency", "string", `"EUR"`)+","+
			param("transaction_id", "string", `"T-1"`), `,"ecommerce":{"total_item_quantity":"1","purchase_revenue_in_usd":44.9,"purchase_revenue":42.5,"shipping_value":4.9,"tax_value":7.08,"unique_items":"1","transaction_id":"T-1"}`+item),
		row("page_view", "1795341600000000", "333.444", "u-300", "WEB", param("ga_session_id", "int", `"1795341600"`)+","+
			param("page_location", "string", `"https://shop.example/account"`), ""),
		row("screen_view", "1795345200000000", "app-inst-1", "", "ANDROID", param("firebase_screen", "string", `"Home"`), ""),
	}
	return strings.Join(lines, "\n") + "\n"
}

// The Google Analytics 4 BigQuery export schema
// (support.google.com/analytics/answer/7029846: event_date,
// event_timestamp in microseconds, event_name, event_params as key and
// typed value, user_id, user_pseudo_id, device, traffic_source,
// collected_traffic_source, platform, ecommerce, items), as `bq extract
// --destination_format NEWLINE_DELIMITED_JSON` writes it (INT64 as
// strings). The same rows as Parquet load the same. A visitor (pseudo id
// 111.222) views, adds, checks out and buys once logged in as u-300, who
// also read a page from a second browser (333.444); session_start and
// scroll are filtered; an Android screen_view of an anonymous install
// makes no customer.
func TestPresetGA4(t *testing.T) {
	jsonl := ga4Sample()
	check := func(t *testing.T, wh, source string) {
		sameRows(t, "ga4 counts (read, loaded, quarantined, duplicate, filtered)",
			[][]string{fileCounts(t, wh, source)}, [][]string{{"9", "7", "0", "0", "2"}})
		who := customerOf(t, wh, "customer_id", "u-300")
		for _, c := range []string{"111.222", "333.444"} {
			if got := customerOf(t, wh, "cookie_id", c); who == "" || got != who {
				t.Errorf("user_pseudo_id %s belongs to %q, want u-300's customer %q", c, got, who)
			}
		}
		// An install with no user id stays anonymous: no hot rows, even
		// under legitimate interest.
		if n := queryCSV(t, wh, "SELECT count(*) FROM analytics.app_events")[0][0]; n != "0" {
			t.Errorf("an anonymous install has %s hot app events", n)
		}
		sameRows(t, "web events", queryCSV(t, wh, fmt.Sprintf(`
SELECT event, coalesce(page, ''), coalesce(product_id, ''), coalesce(category, ''), coalesce(order_id, ''),
       coalesce(CAST(amount AS VARCHAR), ''), coalesce(utm_source, ''), coalesce(utm_campaign, ''), coalesce(device, ''), customer_key = '%s'
FROM analytics.web_events ORDER BY ts`, who)), [][]string{
			{"page_view", "https://shop.example/", "", "", "", "", "newsletter", "bf26", "desktop", "true"},
			{"product_view", "https://shop.example/p/trail", "SKU-1", "Shoes", "", "", "google", "(organic)", "desktop", "true"},
			{"add_to_cart", "", "SKU-1", "Shoes", "", "", "google", "(organic)", "desktop", "true"},
			{"checkout_start", "", "SKU-1", "Shoes", "", "", "google", "(organic)", "desktop", "true"},
			{"purchase", "", "SKU-1", "Shoes", "T-1", "42.50", "google", "(organic)", "desktop", "true"},
			{"page_view", "https://shop.example/account", "", "", "", "", "google", "(organic)", "desktop", "true"},
		})
		sameRows(t, "orders", queryCSV(t, wh, fmt.Sprintf(
			`SELECT order_id, channel, CAST(amount AS VARCHAR), customer_key = '%s', CAST(ts AS VARCHAR) FROM analytics.orders`, who)),
			[][]string{{"T-1", "web", "42.50", "true", "2026-11-22 09:04:00+00"}})
	}
	t.Run("jsonl", func(t *testing.T) {
		data := extracts(t, presetDay, map[string]string{"events_20261122.jsonl": jsonl})
		cfg := writeFile(t, `privacy:
  analytics_basis: legitimate_interest
sources:
  - name: ga4
    preset: ga4
    files: "events_*.jsonl"
`)
		wh := filepath.Join(t.TempDir(), "wh")
		loadNight(t, cfg, data, wh, presetDay)
		check(t, wh, "ga4")
	})
	t.Run("parquet", func(t *testing.T) {
		data := extracts(t, presetDay, map[string]string{"export.jsonl.tmp": jsonl})
		dir := filepath.Join(data, presetDay)
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// BigQuery's Parquet export: INT64 as integers, nested records as
		// structs, repeated ones as lists.
		if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT * REPLACE (CAST(event_timestamp AS BIGINT) AS event_timestamp)
      FROM read_json('%s', format = 'newline_delimited'))
TO '%s' (FORMAT parquet)`, filepath.Join(dir, "export.jsonl.tmp"), filepath.Join(dir, "events_20261122.parquet"))); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, "export.jsonl.tmp")); err != nil {
			t.Fatal(err)
		}
		cfg := writeFile(t, `privacy:
  analytics_basis: legitimate_interest
sources:
  - name: ga4_parquet
    preset: ga4
    files: "events_*.parquet"
    format: parquet
`)
		wh := filepath.Join(t.TempDir(), "wh")
		loadNight(t, cfg, data, wh, presetDay)
		check(t, wh, "ga4_parquet")
	})
}

// shopifyHeader is the header of Shopify's orders export (Admin > Orders
// > Export > CSV for Excel, Numbers, or other spreadsheet programs), in
// the order Shopify writes it.
const shopifyHeader = `Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,` +
	`Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,` +
	`Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,` +
	`Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,` +
	`Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,` +
	`Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Id,Tags,Risk Level,Source,Lineitem discount,` +
	`Tax 1 Name,Tax 1 Value,Phone,Receipt Number,Location`

// shopifyRow writes one line item: order fields (on an order's first row
// only, as Shopify does) and line fields.
func shopifyRow(name, email, status, currency, total, discount, created, qty, item, price, sku, phone, refunded, source, location string) string {
	f := map[string]string{"Name": name, "Email": email, "Financial Status": status, "Currency": currency, "Total": total,
		"Discount Amount": discount, "Created at": created, "Lineitem quantity": qty, "Lineitem name": item, "Lineitem price": price,
		"Lineitem sku": sku, "Lineitem discount": "0.00", "Phone": phone, "Refunded Amount": refunded, "Source": source, "Location": location,
		"Lineitem requires shipping": "true", "Lineitem taxable": "true", "Billing Country": "FR", "Tax 1 Name": "TVA 20%"}
	var out []string
	for _, c := range strings.Split(shopifyHeader, ",") {
		v := f[c]
		if strings.ContainsAny(v, ",\"") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out = append(out, v)
	}
	return strings.Join(out, ",")
}

// shopifySample is the Shopify export of TestPresetShopifyOrders.
func shopifySample() string {
	rows := []string{shopifyHeader,
		shopifyRow("#1001", "anna@example.fr", "paid", "EUR", "27.50", "2.50", "2026-11-22 10:15:00 +0100", "2", "Mug", "10.00", "SKU-A", "+33 6 11 22 33 44", "0.00", "web", ""),
		shopifyRow("#1001", "anna@example.fr", "", "", "", "", "2026-11-22 10:15:00 +0100", "1", "Spoon, silver", "5.00", "SKU-B", "", "", "", ""),
		shopifyRow("#1002", "ben@example.com", "partially_refunded", "EUR", "12.00", "0.00", "2026-11-22 11:00:00 +0100", "1", "Teapot", "12.00", "SKU-C", "", "4.00", "pos", "Paris Rivoli"),
		shopifyRow("#1003", "carl@example.com", "voided", "EUR", "20.00", "0.00", "2026-11-22 12:00:00 +0100", "1", "Cup", "10.00", "SKU-D", "", "0.00", "web", ""),
		shopifyRow("#1003", "carl@example.com", "", "", "", "", "2026-11-22 12:00:00 +0100", "1", "Cup", "10.00", "SKU-E", "", "", "", ""),
		shopifyRow("#1004", "dora@example.com", "refunded", "EUR", "30.00", "0.00", "2026-11-22 13:00:00 +0100", "1", "Kettle", "30.00", "SKU-F", "", "30.00", "web", ""),
	}
	return strings.Join(rows, "\r\n") + "\r\n"
}

// Shopify's orders export (help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders:
// one row per line item, the order's fields on its first row). #1001 has
// two lines and a discount: 2 x 10.00 + 5.00 - 2.50 = 22.50; #1002 is a
// till sale in a store, refunded 4.00 of 12.00: 8.00; #1003 is voided
// (its two lines filtered); #1004 is refunded in full: no purchase.
// Anna's order makes her a customer by email alone, her phone links.
func TestPresetShopifyOrders(t *testing.T) {
	data := extracts(t, presetDay, map[string]string{"orders_export_1.csv": shopifySample()})
	cfg := writeFile(t, `privacy:
  analytics_basis: legitimate_interest
sources:
  - name: shopify
    preset: shopify_orders
    files: "orders_export*.csv"
`)
	wh := filepath.Join(t.TempDir(), "wh")
	loadNight(t, cfg, data, wh, presetDay)

	sameRows(t, "shopify counts (read, loaded, quarantined, duplicate, filtered)",
		[][]string{fileCounts(t, wh, "shopify")}, [][]string{{"6", "4", "0", "0", "2"}})
	anna := customerOf(t, wh, "email", "anna@example.fr")
	if anna == "" || customerOf(t, wh, "phone", "+33611223344") != anna {
		t.Fatalf("anna's email and phone: customers %q and %q", anna, customerOf(t, wh, "phone", "+33611223344"))
	}
	ben := customerOf(t, wh, "email", "ben@example.com")
	sameRows(t, "orders", queryCSV(t, wh, fmt.Sprintf(`
SELECT order_id, channel, CAST(amount AS VARCHAR), CAST(discount AS VARCHAR), items, CAST(ts AS VARCHAR),
       CASE customer_key WHEN '%s' THEN 'anna' WHEN '%s' THEN 'ben' ELSE customer_key END
FROM analytics.orders ORDER BY order_id`, anna, ben)), [][]string{
		{"#1001", "web", "22.50", "2.50", "3", "2026-11-22 09:15:00+00", "anna"},
		{"#1002", "store", "8.00", "4.00", "1", "2026-11-22 10:00:00+00", "ben"},
	})
}

// tcfAll and tcfAds are example strings of the IAB specification: every
// purpose 1 to 11, and purposes 1, 3 and 4.
const (
	tcfAll = "CQNIGUAQNIGUAE1ACADEBbFgAP_gAAAAAAYgKBpV9C7dbWFF8X53aPtkOY0X19BzIsQhBhSBAyAFyBOQ8JQA02E6NASgJiACEAAAoxTBAAFEHABEAQCAQAAEAADsIAwEgAAIIABEgBEQAAJYAAgKCIggEAAIgAIEEgAAmBiAKdLmXUiAgIACCgCQACABAICAAgMABAAIAAIAAAAAwgAAgAJgoAIAAAAAARAIAAAAAAAAAAAAIAAAAAAAAAAAgAAAKHQAYAAgoGMgAwABBQMVABgACCgYiADAAEFAw0AGAAIKBhIAMAAQUDLQAYAAgoGUgAwABBQMlABgACCgZCADAAEFAw.YAAAAAAAA60A"
	tcfAds = "CQNIGUAQNIGUAA4ACAFRBdFgALAAAAEgAAIgKRwBYAFgAbABgAGQCmgOHgpECkYBEQA4AFAAWAEUARAAAAAA"
)

// tcfSample is a consent platform's log: Anna consents to everything, Ben
// to purposes 1, 3 and 4; with bad, a row whose string is no TC string.
func tcfSample(bad bool) string {
	s := "id,email,user_id,tc_string,updated_at\r\n" +
		"c-1,anna@example.fr,," + tcfAll + ",2026-11-22T08:00:00Z\r\n" +
		"c-2,ben@example.com,," + tcfAds + ",2026-11-22T08:30:00Z\r\n"
	if bad {
		s += "c-3,,u-9,not-a-tc-string,2026-11-22T08:45:00Z\r\n"
	}
	return s
}

// A consent platform's log with IAB TCF v2 consent strings (the example
// strings of the IAB Tech Lab's "Consent string and vendor list formats
// v2", whose purposes internal/tcf's tests read bit by bit): Anna's
// string consents to purposes 1 to 11, so every parcours purpose is
// granted; Ben's to purposes 1, 3 and 4 only, so marketing_ads (1, 3, 4)
// is granted and analytics (1, 9) is not: under the default consent
// basis only Anna's order is analysed.
func TestPresetTCFConsents(t *testing.T) {
	consents := tcfSample(true)
	orders := []string{shopifyHeader,
		shopifyRow("#1001", "anna@example.fr", "paid", "EUR", "20.00", "0.00", "2026-11-22 10:15:00 +0100", "2", "Mug", "10.00", "SKU-A", "", "0.00", "web", ""),
		shopifyRow("#1002", "ben@example.com", "paid", "EUR", "12.00", "0.00", "2026-11-22 11:00:00 +0100", "1", "Teapot", "12.00", "SKU-C", "", "0.00", "web", ""),
	}
	data := extracts(t, presetDay, map[string]string{
		"consents_2026-11-22.csv": consents,
		"orders_export_1.csv":     strings.Join(orders, "\r\n") + "\r\n",
	})
	cfg := writeFile(t, `ingest:
  reject_threshold: 0.5
sources:
  - name: consents
    enabled: false
  - name: cmp
    preset: tcf_consents
    files: "consents_*.csv"
  - name: shopify
    preset: shopify_orders
    files: "orders_export*.csv"
`)
	wh := filepath.Join(t.TempDir(), "wh")
	loadNight(t, cfg, data, wh, presetDay)

	// The third row's string is no TC string: quarantined with the reason.
	sameRows(t, "cmp counts (read, loaded, quarantined, duplicate, filtered)",
		[][]string{fileCounts(t, wh, "cmp")}, [][]string{{"3", "2", "1", "0", "0"}})
	sameRows(t, "quarantine reason", queryCSV(t, wh, "SELECT field, reason FROM ops.quarantine WHERE source = 'cmp'"),
		[][]string{{"tc_string", "tc_string: not a TCF v2 consent string"}})
	anna, ben := customerOf(t, wh, "email", "anna@example.fr"), customerOf(t, wh, "email", "ben@example.com")
	sameRows(t, "consent intervals", queryCSV(t, wh, fmt.Sprintf(`
SELECT CASE customer_key WHEN '%s' THEN 'anna' WHEN '%s' THEN 'ben' END AS who, purpose, ended_by
FROM consent.intervals ORDER BY who, purpose`, anna, ben)), [][]string{
		{"anna", "analytics", "open"}, {"anna", "marketing_ads", "open"}, {"anna", "personalization", "open"},
		{"ben", "marketing_ads", "open"},
	})
	sameRows(t, "orders", queryCSV(t, wh, fmt.Sprintf(
		`SELECT order_id, customer_key = '%s' FROM analytics.orders ORDER BY order_id`, anna)), [][]string{{"#1001", "true"}})
}
