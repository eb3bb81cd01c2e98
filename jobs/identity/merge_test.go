package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/warehouse/whtest"
	sqlfs "github.com/parcours/parcours/sql"
)

// A night merges its identifiers and links into the graph: new ones are
// added, known ones keep the earliest sighting (and, for a link, the
// evidence of that sighting), erased ones stay out. The merge skips rows
// it would rewrite with their own values; these cases pin what it must
// still change.
func TestMergeKeepsTheEarliest(t *testing.T) {
	type row struct {
		day int // linked: 2026-11-<day>
		ids []string
	}
	cases := []struct {
		name           string
		before, night  []row
		suppressed     []string
		nullFirstSeen  bool // the known rows lost their first sighting
		wantIDs, links []string
	}{
		{"a known identifier seen again later keeps its day",
			[]row{{1, []string{"email:e@x.fr", "cookie_id:c1"}}},
			[]row{{5, []string{"email:e@x.fr", "cookie_id:c1"}}}, nil, false,
			[]string{"cookie_id:c1 1", "email:e@x.fr 1"},
			[]string{"email:e@x.fr -> cookie_id:c1 row-1 1"}},
		{"a late record moves the first sighting and the evidence earlier",
			[]row{{5, []string{"email:e@x.fr", "cookie_id:c1"}}},
			[]row{{2, []string{"email:e@x.fr", "cookie_id:c1"}}}, nil, false,
			[]string{"cookie_id:c1 2", "email:e@x.fr 2"},
			[]string{"email:e@x.fr -> cookie_id:c1 row-2 2"}},
		{"new identifiers and links are added beside the known ones",
			[]row{{1, []string{"email:e@x.fr", "cookie_id:c1"}}},
			[]row{{3, []string{"email:e@x.fr", "cookie_id:c2"}}}, nil, false,
			[]string{"cookie_id:c1 1", "cookie_id:c2 3", "email:e@x.fr 1"},
			[]string{"email:e@x.fr -> cookie_id:c1 row-1 1", "email:e@x.fr -> cookie_id:c2 row-3 3"}},
		{"a known row without a first sighting gets tonight's",
			[]row{{1, []string{"email:e@x.fr", "cookie_id:c1"}}},
			[]row{{4, []string{"email:e@x.fr", "cookie_id:c1"}}}, nil, true,
			[]string{"cookie_id:c1 4", "email:e@x.fr 4"},
			[]string{"email:e@x.fr -> cookie_id:c1 row-1 4"}},
		{"an erased identifier and its links stay out",
			[]row{{1, []string{"email:e@x.fr", "cookie_id:c1"}}},
			[]row{{3, []string{"email:gone@x.fr", "cookie_id:c1"}}}, []string{"email:gone@x.fr"}, false,
			[]string{"cookie_id:c1 1", "email:e@x.fr 1"},
			[]string{"email:e@x.fr -> cookie_id:c1 row-1 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			wh, conn := testWarehouse(t)
			createIDLists(t, conn)
			if err := run(ctx, wh, conn, sqlfs.Ref{File: "kind.ids.sql", Section: "view"}); err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.suppressed {
				typ, v, _ := strings.Cut(s, ":")
				mustExec(t, conn, fmt.Sprintf(`INSERT INTO ops.suppression (id_token, id_type) VALUES (pseudonym('%s', '%s'), '%s')`, typ, v, typ))
			}
			for n, rows := range [][]row{tc.before, tc.night} {
				mustExec(t, conn, "DELETE FROM kind.id_lists")
				for _, r := range rows {
					mustExec(t, conn, fmt.Sprintf(`INSERT INTO kind.id_lists VALUES ('src', 'events', 'f', TIMESTAMPTZ '2026-11-%02d 10:00:00+00', NULL, 'row-%d', %s)`,
						r.day, r.day, idList(r.ids)))
				}
				for _, s := range [][2]string{{"identity.identifiers.sql", "extract"}, {"identity.identifiers.sql", "merge"},
					{"identity.links.sql", "extract"}, {"identity.links.sql", "merge"}} {
					if err := run(ctx, wh, conn, sqlfs.Ref{File: s[0], Section: s[1]}); err != nil {
						t.Fatal(err)
					}
				}
				if n == 0 && tc.nullFirstSeen {
					mustExec(t, conn, "UPDATE identity.identifiers SET first_seen = NULL; UPDATE identity.links SET first_seen = NULL")
				}
			}
			names := `WITH names AS (
    SELECT pseudonym(t, x) AS token, t || ':' || x AS name
    FROM (VALUES ('email', 'e@x.fr'), ('email', 'gone@x.fr'), ('cookie_id', 'c1'), ('cookie_id', 'c2')) v(t, x))
`
			if got := whtest.Strings(t, conn, names+`SELECT n.name || ' ' || day(i.first_seen) FROM identity.identifiers i JOIN names n ON n.token = i.id_token ORDER BY 1`); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("identifiers:\n got %q\nwant %q", got, tc.wantIDs)
			}
			if n := whtest.Strings(t, conn, "SELECT count(*) FROM identity.identifiers"); n[0] != fmt.Sprint(len(tc.wantIDs)) {
				t.Errorf("identifiers: %s rows, want %d", n[0], len(tc.wantIDs))
			}
			if got := whtest.Strings(t, conn, names+`SELECT a.name || ' -> ' || b.name || ' ' || l.evidence || ' ' || day(l.first_seen)
FROM identity.links l JOIN names a ON a.token = l.a_token JOIN names b ON b.token = l.b_token ORDER BY 1`); !slices.Equal(got, tc.links) {
				t.Errorf("links:\n got %q\nwant %q", got, tc.links)
			}
			if n := whtest.Strings(t, conn, "SELECT count(*) FROM identity.links"); n[0] != fmt.Sprint(len(tc.links)) {
				t.Errorf("links: %s rows, want %d", n[0], len(tc.links))
			}
		})
	}
}
