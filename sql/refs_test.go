package sql_test

import (
	"testing"

	"github.com/parcours/parcours/internal/sqlrefs"
	sqlfs "github.com/parcours/parcours/sql"
)

// Every section the Go code names with constant strings (a literal or a
// package constant: wh.Run(ctx, conn, sqlfs.Ref{File: "landing.fact_keys.sql",
// Section: "build"}), Section(membersFile, "write")) is a section of an
// embedded file: a misspelt name fails here instead of in the middle of a
// night.
func TestSectionRefsExist(t *testing.T) {
	set, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := sqlrefs.Scan("..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range pkgs {
		for _, u := range p.Uses {
			checked++
			if _, err := set.Text(u.Ref); err != nil {
				t.Errorf("%s: %v", u.Pos, err)
			}
		}
	}
	t.Logf("%d section references checked", checked)
	if checked < 150 {
		t.Fatalf("checked only %d section references: the scan is not seeing the code", checked)
	}
}
