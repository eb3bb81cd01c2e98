package split

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"
	sqlfs "github.com/parcours/parcours/sql"
)

// The consent gate of the split (keyed's _analytics): a fact enters hot
// when its customer's analytics consent was valid at its time, intervals
// half-open, an open end valid for ever, whatever the overlaps between a
// customer's intervals; never for another purpose, an erased identifier,
// or a fact that names nobody. Days are 2026-11-<day> at noon UTC.
func TestConsentGate(t *testing.T) {
	type iv struct {
		purpose  string
		from, to int // to 0: open
	}
	cases := []struct {
		name      string
		intervals []iv
		day       int
		id        string // the fact's identifier; "nobody" names no customer
		want      bool
	}{
		{"inside", []iv{{"analytics", 2, 5}}, 3, "email:a@x.fr", true},
		{"the first instant counts", []iv{{"analytics", 3, 5}}, 3, "email:a@x.fr", true},
		{"the end does not", []iv{{"analytics", 1, 3}}, 3, "email:a@x.fr", false},
		{"before", []iv{{"analytics", 4, 9}}, 3, "email:a@x.fr", false},
		{"open end", []iv{{"analytics", 2, 0}}, 28, "email:a@x.fr", true},
		{"overlapping, in the second only", []iv{{"analytics", 1, 5}, {"analytics", 3, 8}}, 6, "email:a@x.fr", true},
		{"in both overlapping ones, once", []iv{{"analytics", 1, 5}, {"analytics", 3, 8}}, 4, "email:a@x.fr", true},
		{"an interval inside another", []iv{{"analytics", 1, 9}, {"analytics", 3, 4}}, 6, "email:a@x.fr", true},
		{"inside the inner one, once", []iv{{"analytics", 1, 9}, {"analytics", 3, 5}}, 3, "email:a@x.fr", true},
		{"touching", []iv{{"analytics", 1, 3}, {"analytics", 3, 5}}, 3, "email:a@x.fr", true},
		{"after touching ones", []iv{{"analytics", 1, 3}, {"analytics", 3, 5}}, 5, "email:a@x.fr", false},
		{"in the gap", []iv{{"analytics", 1, 3}, {"analytics", 6, 0}}, 4, "email:a@x.fr", false},
		{"after the gap", []iv{{"analytics", 1, 3}, {"analytics", 6, 0}}, 7, "email:a@x.fr", true},
		{"another purpose", []iv{{"marketing_email", 1, 0}}, 3, "email:a@x.fr", false},
		{"erased identifier", []iv{{"analytics", 1, 0}}, 3, "email:gone@x.fr", false},
		{"nobody", []iv{{"analytics", 1, 0}}, 3, "cookie_id:unknown", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			wh, conn := whtest.OpenConn(t, nil)
			typ, v, _ := strings.Cut(tc.id, ":")
			ts := fmt.Sprintf("TIMESTAMPTZ '2026-11-%02d 12:00:00+00'", tc.day)
			ids := fmt.Sprintf("[{'type': '%s', 'value': '%s'}]", typ, v)
			stmts := []string{
				`CREATE SCHEMA IF NOT EXISTS kind`,
				`CREATE TABLE kind.id_lists (kind VARCHAR, ids STRUCT("type" VARCHAR, "value" VARCHAR)[])`,
				`CREATE TABLE kind.events (_source VARCHAR, _fact VARCHAR, ts TIMESTAMPTZ, _ids STRUCT("type" VARCHAR, "value" VARCHAR)[])`,
				`INSERT INTO kind.id_lists VALUES ('events', ` + ids + `)`,
				`INSERT INTO kind.events VALUES ('web', 'f1', ` + ts + `, ` + ids + `)`,
				`INSERT INTO identity.customer_map VALUES
  (pseudonym('email', 'a@x.fr'), 'email', 'K1', false), (pseudonym('email', 'gone@x.fr'), 'email', 'K1', false)`,
				`INSERT INTO ops.suppression (id_token, id_type, request_id) VALUES (pseudonym('email', 'gone@x.fr'), 'email', 'r1')`,
			}
			for i, x := range tc.intervals {
				to := "NULL"
				if x.to > 0 {
					to = fmt.Sprintf("TIMESTAMPTZ '2026-11-%02d 12:00:00+00'", x.to)
				}
				stmts = append(stmts, fmt.Sprintf(`INSERT INTO consent.intervals VALUES ('K1', '%s', TIMESTAMPTZ '2026-11-%02d 12:00:00+00', %s, 'open', 'c%d', 'crm')`,
					x.purpose, x.from, to, i))
			}
			for _, q := range stmts {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			if _, err := wh.Run(ctx, conn, sqlfs.Ref{File: "landing.fact_keys.sql", Section: "build"}); err != nil {
				t.Fatal(err)
			}
			var n int
			var got bool
			if err := conn.QueryRowContext(ctx, `SELECT count(*), bool_or(_analytics) FROM keyed('kind.events')`).Scan(&n, &got); err != nil {
				t.Fatal(err)
			}
			if n != 1 || got != tc.want {
				t.Errorf("%d rows, _analytics %v; want 1 row, %v", n, got, tc.want)
			}
		})
	}
}
