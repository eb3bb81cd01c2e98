package identity

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parcours/parcours/internal/warehouse/whtest"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// Nights that restitch only what they touch must leave the same map,
// customers, blocked identifiers and merges as a stitch from scratch. The
// nights grow a random graph with what makes stitching non-local: shared
// mailboxes and family computers the guard blocks, late records that
// change a customer's representative, cards newly blocked for their use,
// and erasures that lower a blocked identifier's count of customers.
func TestIncrementalEqualsRebuild(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ctx := context.Background()
			wh, conn := testWarehouse(t)
			r := rand.New(rand.NewPCG(seed, 7))
			w := &world{r: r}
			opts := Options{Limits: Limits{MaxCustomerIDs: 2, MaxCustomersPerDevice: 1}, MaxReceiptsPerCardDay: 10,
				MaxStoresPerCardDay: 3, Log: zerolog.Nop()}
			for night := 0; night < 8; night++ {
				opts.Date = time.Date(2026, 11, 1+night, 0, 0, 0, 0, time.UTC)
				opts.RunID = fmt.Sprint("night-", night)
				nodes, links := w.night(night)
				all, err := fullStitch(ctx, wh, conn, opts.Limits)
				if err != nil {
					t.Fatal(err)
				}
				if all != (night == 0) {
					t.Fatalf("night %d: full stitch %v", night, all)
				}
				if night > 0 && night%3 == 0 {
					eraseOne(t, conn, r)
					// The next night absorbs an erasure: the check says so.
					if out, err := Check(ctx, wh, conn, opts); err != nil || out.Moved != 0 {
						t.Fatalf("night %d, after an erasure: check moves %d, %v", night, out.Moved, err)
					}
				}
				// id_nodes and id_links as the extract sections leave them.
				mustExec(t, conn, "CREATE OR REPLACE TEMP TABLE raw_nodes (id_type VARCHAR, value VARCHAR, first_seen TIMESTAMPTZ)")
				mustExec(t, conn, "CREATE OR REPLACE TEMP TABLE raw_links (a_type VARCHAR, a VARCHAR, b_type VARCHAR, b VARCHAR, source VARCHAR, first_seen TIMESTAMPTZ)")
				insert(t, conn, "INSERT INTO raw_nodes VALUES", nodes)
				insert(t, conn, "INSERT INTO raw_links VALUES", links)
				mustExec(t, conn, "CREATE OR REPLACE TEMP TABLE id_nodes AS SELECT pseudonym(id_type, value) AS id_token, id_type, value, min(first_seen) AS first_seen FROM raw_nodes GROUP BY ALL")
				mustExec(t, conn, `CREATE OR REPLACE TEMP TABLE id_links AS SELECT pseudonym(a_type, a) AS a_token, pseudonym(b_type, b) AS b_token, source,
  CAST(NULL AS VARCHAR) AS evidence, min(first_seen) AS first_seen FROM raw_links GROUP BY ALL`)
				opts.All = all
				for _, s := range [][2]string{{incremental, "start"}, {incremental, "seed_nodes"}, {"identity.identifiers.sql", "merge"},
					{incremental, "seed_links"}, {"identity.links.sql", "merge"}} {
					if err := run(ctx, wh, conn, sqlfs.Ref{File: s[0], Section: s[1]}); err != nil {
						t.Fatal(err)
					}
				}
				if night == 5 { // cards newly found kept at the tills, one of them joining two customers
					mustExec(t, conn, `INSERT INTO identity.usage_blocked SELECT id_token, id_type, label, 20, DATE '2026-11-06'
FROM identity.identifiers i WHERE id_type = 'loyalty_card'
ORDER BY (SELECT count(DISTINCT a_token) FROM identity.links l WHERE l.b_token = i.id_token) DESC, id_token LIMIT 2`)
				}
				if night == 6 { // the run stops after merging: the next one must restitch whole
					if all, err := fullStitch(ctx, wh, conn, opts.Limits); err != nil || !all {
						t.Fatalf("after a run that stopped before the map was replaced: full stitch %v, %v", all, err)
					}
					opts.All = true
				}
				if _, err := Restitch(ctx, wh, conn, opts); err != nil {
					t.Fatal(err)
				}
				got := snapshot(t, conn)
				out, err := Check(ctx, wh, conn, opts)
				if err != nil {
					t.Fatal(err)
				}
				if out.Moved != 0 {
					t.Fatalf("night %d: a stitch from scratch moves %d identifiers", night, out.Moved)
				}
				if _, err := Rebuild(ctx, wh, conn, opts); err != nil {
					t.Fatal(err)
				}
				if want := snapshot(t, conn); !reflect.DeepEqual(got, want) {
					for k := range want {
						if !reflect.DeepEqual(got[k], want[k]) {
							t.Errorf("night %d: %s differs from a stitch from scratch:\n incremental %d rows\n rebuilt     %d rows", night, k, len(got[k]), len(want[k]))
						}
					}
					t.FailNow()
				}
			}
			var blocked, merges int
			_ = conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM identity.blocked), (SELECT count(*) FROM ops.identity_merges)").Scan(&blocked, &merges)
			if blocked == 0 || merges == 0 {
				t.Fatalf("the graph exercised no guard (%d blocked) or no merge (%d)", blocked, merges)
			}
		})
	}
}

// The check compares the map a night would leave with a stitch from
// scratch: a map row changed behind stitching's back, outside anything a
// night restitches, is found.
func TestCheckFindsATamperedMap(t *testing.T) {
	ctx := context.Background()
	wh, conn := testWarehouse(t)
	opts := Options{Limits: Limits{MaxCustomerIDs: 2, MaxCustomersPerDevice: 1}, MaxReceiptsPerCardDay: 10, MaxStoresPerCardDay: 3,
		Log: zerolog.Nop(), All: true, Date: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), RunID: "r"}
	mustExec(t, conn, `CREATE OR REPLACE TEMP TABLE id_nodes AS SELECT pseudonym(id_type, value) AS id_token, * FROM (VALUES
  ('customer_id', 'C1', TIMESTAMPTZ '2026-01-01'), ('email', 'a@x', TIMESTAMPTZ '2026-01-01'),
  ('customer_id', 'C2', TIMESTAMPTZ '2026-01-02'), ('email', 'b@x', TIMESTAMPTZ '2026-01-02')) v(id_type, value, first_seen)`)
	mustExec(t, conn, `CREATE OR REPLACE TEMP TABLE id_links AS SELECT pseudonym('customer_id', c) AS a_token, pseudonym('email', e) AS b_token,
  'crm' AS source, CAST(NULL AS VARCHAR) AS evidence, TIMESTAMPTZ '2026-01-01' AS first_seen FROM (VALUES ('C1', 'a@x'), ('C2', 'b@x')) v(c, e)`)
	for _, s := range [][2]string{{incremental, "start"}, {"identity.identifiers.sql", "merge"}, {"identity.links.sql", "merge"}} {
		if err := run(ctx, wh, conn, sqlfs.Ref{File: s[0], Section: s[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Restitch(ctx, wh, conn, opts); err != nil {
		t.Fatal(err)
	}
	if out, err := Check(ctx, wh, conn, opts); err != nil || out.Moved != 0 {
		t.Fatalf("untouched map: check moves %d, %v", out.Moved, err)
	}
	mustExec(t, conn, "UPDATE identity.customer_map SET customer_key = 'tampered' WHERE id_token = pseudonym('email', 'b@x')")
	if out, err := Check(ctx, wh, conn, opts); err != nil || out.Moved != 1 {
		t.Fatalf("one tampered row: check moves %d, %v", out.Moved, err)
	}
}

// world draws a night's identifiers and links: new customers with their
// email, phone, card and cookie, returning customers on new devices,
// mailboxes and computers shared between customers, and an older record
// of a known customer id now and then.
type world struct {
	r         *rand.Rand
	customers int
}

func (w *world) night(n int) (nodes, links [][]any) {
	day := time.Date(2026, 11, 1+n, 12, 0, 0, 0, time.UTC)
	link := func(at, a, bt, b string) {
		links = append(links, []any{at, a, bt, b, "crm", day})
		nodes = append(nodes, []any{at, a, day}, []any{bt, b, day})
	}
	fresh := 40
	if n == 0 {
		fresh = 200
	}
	for i := 0; i < fresh; i++ {
		w.customers++
		c := fmt.Sprint("C", w.customers)
		link(CustomerID, c, Email, fmt.Sprintf("m%d@x", w.customers))
		if w.r.IntN(3) == 0 {
			link(CustomerID, c, Phone, fmt.Sprint("+33", w.customers))
		}
		link(CustomerID, c, LoyaltyCard, fmt.Sprint("L", w.customers))
		link(CustomerID, c, CookieID, fmt.Sprintf("ck%d-%d", w.customers, n))
	}
	old := func() string { return fmt.Sprint("C", 1+w.r.IntN(w.customers)) }
	for i := 0; i < 25; i++ {
		link(CustomerID, old(), CookieID, fmt.Sprintf("ck-new-%d-%d", n, i))
	}
	for i := 0; i < 6; i++ { // a mailbox two or three records share
		link(CustomerID, old(), Email, fmt.Sprintf("m%d@x", 1+w.r.IntN(w.customers)))
	}
	for i := 0; i < 6; i++ { // a computer two people log in on
		link(CustomerID, old(), CookieID, fmt.Sprintf("ck%d-%d", 1+w.r.IntN(w.customers), w.r.IntN(n+1)))
	}
	for i := 0; i < 3; i++ { // a family's loyalty card
		link(CustomerID, old(), LoyaltyCard, fmt.Sprint("L", 1+w.r.IntN(w.customers)))
	}
	for i := 0; i < 4; i++ { // an email-only contact who visits
		e := fmt.Sprintf("m%d@x", 1+w.r.IntN(w.customers))
		link(Email, e, DeviceID, fmt.Sprintf("dv%d-%d", n, i))
	}
	if n > 0 { // a late record: a customer id seen before anyone knew
		c := old()
		nodes = append(nodes, []any{CustomerID, c, time.Date(2020, 1, 1+n, 0, 0, 0, 0, time.UTC)})
	}
	return nodes, links
}

// eraseOne deletes a customer as privacy.purge.sql erase does in the
// identity schema.
func eraseOne(t *testing.T, conn *sql.Conn, r *rand.Rand) {
	t.Helper()
	var key string
	if err := conn.QueryRowContext(context.Background(), `SELECT customer_key FROM identity.customers WHERE known AND n_identifiers > 3
ORDER BY customer_key LIMIT 1 OFFSET $1`, r.IntN(20)).Scan(&key); err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, `CREATE OR REPLACE TEMP TABLE erase_tokens AS SELECT id_token FROM identity.customer_map WHERE customer_key = '`+key+`' AND NOT blocked`)
	for _, q := range []string{
		"DELETE FROM identity.links WHERE a_token IN (SELECT id_token FROM erase_tokens) OR b_token IN (SELECT id_token FROM erase_tokens)",
		"DELETE FROM identity.identifiers WHERE id_token IN (SELECT id_token FROM erase_tokens)",
		"DELETE FROM identity.customer_map WHERE customer_key = '" + key + "' OR id_token IN (SELECT id_token FROM erase_tokens)",
		"DELETE FROM identity.customers WHERE customer_key = '" + key + "'",
		"DELETE FROM ops.identity_merges WHERE customer_key = '" + key + "'",
	} {
		mustExec(t, conn, q)
	}
}

// snapshot reads what stitching writes, in a stable order.
func snapshot(t *testing.T, conn *sql.Conn) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, q := range map[string]string{
		"customer_map": "SELECT id_token, id_type, customer_key, blocked FROM identity.customer_map",
		"customers":    "SELECT * FROM identity.customers",
		"blocked":      "SELECT * FROM identity.blocked",
		"merges":       "SELECT customer_key, merged_token, merged_label, via_type, via_label, previous_key FROM ops.identity_merges",
	} {
		rows, err := conn.QueryContext(context.Background(), "SELECT CAST(t AS VARCHAR) FROM ("+q+") t ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[name] = append(out[name], s)
		}
		rows.Close()
	}
	return out
}

func testWarehouse(t *testing.T) (*warehouse.Warehouse, *sql.Conn) {
	t.Helper()
	return whtest.OpenConn(t, nil)
}

// createIDLists creates kind.id_lists as a table the extract sections
// read (one row per fact, its identifiers as a list).
func createIDLists(t *testing.T, conn *sql.Conn) {
	t.Helper()
	mustExec(t, conn, `CREATE SCHEMA IF NOT EXISTS kind;
CREATE TABLE kind.id_lists (source VARCHAR, kind VARCHAR, fact VARCHAR, linked TIMESTAMPTZ, created TIMESTAMPTZ,
  evidence VARCHAR, ids STRUCT("type" VARCHAR, "value" VARCHAR)[])`)
}

// idList is the SQL literal of identifiers written "type:value".
func idList(ids []string) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		typ, v, _ := strings.Cut(id, ":")
		items[i] = fmt.Sprintf(`{'type': '%s', 'value': '%s'}`, typ, v)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

func mustExec(t *testing.T, conn *sql.Conn, q string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
}

func insert(t *testing.T, conn *sql.Conn, head string, rows [][]any) {
	t.Helper()
	if err := warehouse.InsertRows(context.Background(), conn, head, "", rows); err != nil {
		t.Fatal(err)
	}
}
