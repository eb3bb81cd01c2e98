package identity

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"
	sqlfs "github.com/parcours/parcours/sql"
)

// A row links its best identifier to each other one it carries; the
// extract reads kind.id_lists (one row per fact, its identifiers as a
// list), so the cases are written as such rows.
func TestLinksWithinARow(t *testing.T) {
	type row struct {
		kind, evidence string
		day            int // linked: 2026-11-<day>
		ids            []string
	}
	cases := []struct {
		name string
		rows []row
		want []string // a -> b evidence day
	}{
		{"a customer id anchors its row",
			[]row{{"customers", "crm.csv", 1, []string{"email:e@x.fr", "customer_id:7", "phone:+33612345678"}}},
			[]string{"customer_id:7 -> email:e@x.fr crm.csv 1", "customer_id:7 -> phone:+33612345678 crm.csv 1"}},
		{"one identifier links nothing",
			[]row{{"events", "event 1", 1, []string{"cookie_id:c1"}}}, nil},
		{"a consent links nothing",
			[]row{{"consents", "consent 1", 1, []string{"email:e@x.fr", "customer_id:7"}}}, nil},
		{"an identifier twice in a row links once, never to itself",
			[]row{{"events", "event 1", 1, []string{"email:e@x.fr", "cookie_id:c1", "email:e@x.fr"}}},
			[]string{"email:e@x.fr -> cookie_id:c1 event 1 1"}},
		{"the earliest row is the evidence",
			[]row{{"events", "event 2", 3, []string{"cookie_id:c1", "email:e@x.fr"}},
				{"events", "event 1", 2, []string{"cookie_id:c1", "email:e@x.fr"}}},
			[]string{"email:e@x.fr -> cookie_id:c1 event 1 2"}},
		{"a type of the company's own ranks after a customer id, before an email",
			[]row{{"orders", "order 1", 1, []string{"email:e@x.fr", "account_id:A9"}}},
			[]string{"account_id:A9 -> email:e@x.fr order 1 1"}},
		{"between two of one rank the smallest value anchors",
			[]row{{"surveys", "response 1", 1, []string{"email:b@x.fr", "email:a@x.fr", "device_id:d1"}}},
			[]string{"email:a@x.fr -> device_id:d1 response 1 1", "email:a@x.fr -> email:b@x.fr response 1 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			wh, conn := testWarehouse(t)
			createIDLists(t, conn)
			for i, r := range tc.rows {
				mustExec(t, conn, fmt.Sprintf(`INSERT INTO kind.id_lists VALUES ('src', '%s', 'f%d', TIMESTAMPTZ '2026-11-%02d 10:00:00+00', NULL, '%s', %s)`,
					r.kind, i, r.day, r.evidence, idList(r.ids)))
			}
			if err := run(ctx, wh, conn, sqlfs.Ref{File: "identity.links.sql", Section: "extract"}); err != nil {
				t.Fatal(err)
			}
			got := whtest.Strings(t, conn, `WITH names AS (
    SELECT DISTINCT pseudonym(i."type", i."value") AS token, i."type" || ':' || i."value" AS name
    FROM kind.id_lists, unnest(ids) AS u(i))
SELECT a.name || ' -> ' || b.name || ' ' || l.evidence || ' ' || day(l.first_seen)
FROM id_links l JOIN names a ON a.token = l.a_token JOIN names b ON b.token = l.b_token
ORDER BY 1`)
			if !slices.Equal(got, tc.want) {
				t.Errorf("links:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
