package sql

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sqlStart is how a Go string holding SQL starts: a statement keyword
// or a clause a statement is assembled from, upper case as this code base
// writes SQL, after any comment lines. Transaction control (BEGIN, COMMIT,
// ROLLBACK) is not counted: it is the driver's business, as database/sql's
// BeginTx issues it.
var sqlStart = regexp.MustCompile(`^\s*(--[^\n]*\n\s*)*(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|WITH|ALTER|DROP|ATTACH|DETACH|COPY|SET|PRAGMA|CHECKPOINT|INSTALL|LOAD|FROM|WHERE|JOIN|LEFT JOIN|ORDER BY|GROUP BY|UNION|VALUES)\b[\s(]`)

// generated are the packages whose SQL is generated from the source
// definitions (a landing table and reader per configured source), the one
// stated exception.
var generated = []string{"jobs/ingest/"}

// Every static statement lives in this folder, in a named section: a Go
// string that starts like SQL outside the generated exception fails here
// with its file and line.
func TestNoSQLInGo(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for _, g := range generated {
			if strings.HasPrefix(rel, g) {
				return nil
			}
		}
		checked++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && sqlStart.MatchString(s) {
				first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
				t.Errorf("%s:%d: SQL in Go (%.60q): move it to a named section of a sql/*.sql file", rel, fset.Position(lit.Pos()).Line, first)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d Go files under %s: the walk is not seeing the code", checked, root)
	}
}

func TestSQLStart(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"SELECT count(*) FROM t", true},
		{"-- a comment\nINSERT INTO ops.meta VALUES (1)", true},
		{"\n\tWITH a AS (SELECT 1) SELECT * FROM a", true},
		{"ORDER BY created_at DESC", true},
		{"CREATE OR REPLACE TEMP MACRO f(x) AS x", true},
		{"BEGIN TRANSACTION", false},
		{"Select a destination", false},
		{"selected rows", false},
		{"SET", false}, // a bare word, e.g. a map key naming a refused statement
		{"it changes settings", false},
	} {
		if got := sqlStart.MatchString(tc.s); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.s, got, tc.want)
		}
	}
}
