package consent

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/internal/warehouse/whtest"
	sqlfs "github.com/parcours/parcours/sql"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// embeddedSQL is the SQL set LoadGate reads its statement from.
func embeddedSQL(t *testing.T) *sqlfs.Set {
	t.Helper()
	set, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

type event struct {
	id, subject, purpose, status, at, expires string
}

// build runs the real consent.intervals SQL over events on an in-memory
// database whose customer map sends every subject token to customer "c-"+token.
func build(t *testing.T, events []event) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	set, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET TimeZone = 'UTC'", "CREATE SCHEMA consent", "CREATE SCHEMA identity",
		"CREATE TEMP MACRO in_shard(key, route) AS true", // a single node (internal/warehouse connInit)
		`CREATE TABLE identity.customer_map (id_token VARCHAR, id_type VARCHAR, customer_key VARCHAR, blocked BOOLEAN)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"consent.events.sql", "consent.intervals.sql"} {
		body, _ := set.Section(f, "create")
		if _, err := db.Exec(body); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range events {
		var exp any
		if e.expires != "" {
			exp = ts(e.expires)
		}
		if _, err := db.Exec(`INSERT INTO consent.events VALUES (?, ?, 'email', ?, ?, ?, ?, 'test', 'r1')`,
			e.id, e.subject, e.purpose, e.status, ts(e.at), exp); err != nil {
			t.Fatal(err)
		}
		blocked := e.subject == "shared"
		if _, err := db.Exec(`INSERT INTO identity.customer_map SELECT ?, 'email', 'c-' || ?, ? WHERE ? NOT IN (SELECT id_token FROM identity.customer_map)`,
			e.subject, e.subject, blocked, e.subject); err != nil {
			t.Fatal(err)
		}
	}
	body, _ := set.Section("consent.intervals.sql", "build")
	if _, err := warehouse.ExecScript(context.Background(), db, body, sql.Named("all", true), sql.Named("run_id", "r1")); err != nil {
		t.Fatal(err)
	}
	return db
}

// Nights that rebuild only the customers whose consent records or
// identifiers changed leave the same intervals as a full rebuild: new
// records, subjects moving to another customer (a merge), subjects the
// guard blocks or unblocks, and a customer's only subject erased.
func TestIncrementalBuildEqualsFull(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	db := build(t, nil)
	set, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := set.Section("consent.intervals.sql", "build")
	run := func(all bool, runID string) {
		t.Helper()
		if _, err := warehouse.ExecScript(context.Background(), db, body, sql.Named("all", all), sql.Named("run_id", runID)); err != nil {
			t.Fatal(err)
		}
	}
	intervals := func() []string {
		t.Helper()
		return whtest.Strings(t, db, "SELECT CAST(i AS VARCHAR) FROM consent.intervals i ORDER BY 1")
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	base := ts("2026-01-01T00:00:00Z")
	n := 0
	for night := 0; night < 10; night++ {
		runID := fmt.Sprint("night-", night)
		for i := 0; i < 30; i++ {
			n++
			subj := fmt.Sprint("s", r.IntN(40))
			status := []string{"granted", "granted", "withdrawn"}[r.IntN(3)]
			at := base.Add(time.Duration(r.IntN(300*24)) * time.Hour)
			exec(`INSERT INTO consent.events VALUES (?, ?, 'email', ?, ?, ?, NULL, 'test', ?)`, fmt.Sprint("e", n), subj, Purposes()[r.IntN(2)], status, at, runID)
			exec(`INSERT INTO identity.customer_map SELECT ?, 'email', 'c-' || ?, false WHERE ? NOT IN (SELECT id_token FROM identity.customer_map)`, subj, subj, subj)
		}
		if night > 0 {
			for i := 0; i < 3; i++ { // a merge: a subject now belongs to another customer
				exec(`UPDATE identity.customer_map SET customer_key = ? WHERE id_token = ?`, fmt.Sprint("c-s", r.IntN(40)), fmt.Sprint("s", r.IntN(40)))
			}
			exec(`UPDATE identity.customer_map SET blocked = NOT blocked WHERE id_token = ?`, fmt.Sprint("s", r.IntN(40)))
			exec(`DELETE FROM identity.customer_map WHERE id_token = ?`, fmt.Sprint("s", r.IntN(40)))
		}
		run(false, runID)
		got := intervals()
		run(true, runID)
		if want := intervals(); !reflect.DeepEqual(got, want) {
			t.Fatalf("night %d: incremental build gives %d intervals, a full build %d", night, len(got), len(want))
		}
		if len(got) == 0 {
			t.Fatalf("night %d: no intervals at all", night)
		}
	}
}

func TestGateSemantics(t *testing.T) {
	db := build(t, []event{
		{"1", "a", "analytics", "granted", "2026-01-01T00:00:00Z", ""},
		{"2", "a", "analytics", "withdrawn", "2026-03-01T00:00:00Z", ""},
		{"3", "a", "analytics", "granted", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"},
		{"4", "b", "marketing_email", "granted", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"},
		{"5", "b", "marketing_email", "granted", "2026-01-15T00:00:00Z", "2026-04-01T00:00:00Z"}, // renewal
		{"6", "c", "analytics", "withdrawn", "2026-01-01T00:00:00Z", ""},                         // never granted
		{"7", "shared", "analytics", "granted", "2026-01-01T00:00:00Z", ""},                      // blocked identifier
	})
	g, err := LoadGate(context.Background(), embeddedSQL(t), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		customer, purpose, at string
		want                  bool
	}{
		{"c-a", "analytics", "2025-12-31T23:59:59Z", false},
		{"c-a", "analytics", "2026-01-01T00:00:00Z", true},
		{"c-a", "analytics", "2026-02-28T23:59:59Z", true},
		{"c-a", "analytics", "2026-03-01T00:00:00Z", false}, // withdrawn at that instant
		{"c-a", "analytics", "2026-05-15T00:00:00Z", true},
		{"c-a", "analytics", "2026-06-01T00:00:00Z", false}, // expired
		{"c-a", "marketing_email", "2026-01-15T00:00:00Z", false},
		{"c-b", "marketing_email", "2026-03-01T00:00:00Z", true}, // the renewal outlives the first expiry
		{"c-b", "marketing_email", "2026-04-01T00:00:00Z", false},
		{"c-c", "analytics", "2026-02-01T00:00:00Z", false},
		{"c-shared", "analytics", "2026-02-01T00:00:00Z", false},
		{"nobody", "analytics", "2026-02-01T00:00:00Z", false},
	} {
		if got := g.May(tc.customer, tc.purpose, ts(tc.at)); got != tc.want {
			t.Errorf("May(%s, %s, %s) = %v, want %v", tc.customer, tc.purpose, tc.at, got, tc.want)
		}
	}
}

// The Go gate and the SQL predicate the split uses agree on random histories.
func TestGateMatchesSQL(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := ts("2026-01-01T00:00:00Z")
	var events []event
	for i := 0; i < 400; i++ {
		subj := string(rune('a' + r.IntN(20)))
		at := base.Add(time.Duration(r.IntN(300*24)) * time.Hour)
		status := "granted"
		if r.IntN(3) == 0 {
			status = "withdrawn"
		}
		exp := ""
		if r.IntN(2) == 0 {
			exp = at.Add(time.Duration(1+r.IntN(90*24)) * time.Hour).Format(time.RFC3339)
		}
		events = append(events, event{string(rune('A'+i/26)) + string(rune('a'+i%26)), subj, Purposes()[r.IntN(2)], status, at.Format(time.RFC3339), exp})
	}
	db := build(t, events)
	g, err := LoadGate(context.Background(), embeddedSQL(t), db)
	if err != nil {
		t.Fatal(err)
	}
	yes := 0
	for i := 0; i < 3000; i++ {
		c := "c-" + string(rune('a'+r.IntN(20)))
		p := Purposes()[r.IntN(2)]
		at := base.Add(time.Duration(r.IntN(330*24)) * time.Hour)
		var want bool
		if err := db.QueryRow(`SELECT EXISTS (SELECT 1 FROM consent.intervals ci WHERE ci.customer_key = ? AND ci.purpose = ?
  AND ? >= ci.valid_from AND (ci.valid_to IS NULL OR ? < ci.valid_to))`, c, p, at, at).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := g.May(c, p, at); got != want {
			t.Fatalf("May(%s, %s, %s) = %v, SQL says %v", c, p, at, got, want)
		}
		if want {
			yes++
		}
	}
	if yes < 300 || yes > 2700 {
		t.Fatalf("%d of 3000 allowed: the random histories do not exercise both answers", yes)
	}
}
