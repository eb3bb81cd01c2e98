package sql

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every (file, section) pair the Go code names with constant strings (a
// literal or a package constant: wh.RunSection(ctx, conn,
// "landing.fact_keys.sql", "build"), Section(membersFile, "write")) is a
// section of an embedded file: a misspelt name fails here instead of in
// the middle of a night.
func TestSectionRefsExist(t *testing.T) {
	set, err := Parse(FS())
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string][]*ast.File{} // folder -> files
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil // tests name sections of their own sets
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		pkgs[filepath.Dir(p)] = append(pkgs[filepath.Dir(p)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for dir, files := range pkgs {
		consts := map[string]string{}
		for _, f := range files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := stringOf(vs.Values[i], nil); ok {
								consts[n.Name] = v
							}
						}
					}
				}
			}
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				for i := 0; i+1 < len(call.Args); i++ {
					file, ok := stringOf(call.Args[i], consts)
					if !ok || !strings.HasSuffix(file, ".sql") || strings.Contains(file, "/") {
						continue
					}
					section, ok := stringOf(call.Args[i+1], consts)
					if !ok || strings.HasSuffix(section, ".sql") {
						continue
					}
					checked++
					if _, err := set.Section(file, section); err != nil {
						rel, _ := filepath.Rel(root, dir)
						t.Errorf("%s:%d: %s has no section %q", filepath.ToSlash(rel), fset.Position(call.Pos()).Line, file, section)
					}
				}
				return true
			})
		}
	}
	t.Logf("%d section references checked", checked)
	if checked < 150 {
		t.Fatalf("checked only %d section references: the walk is not seeing the code", checked)
	}
}

// stringOf is the value of a string literal or of a package constant.
func stringOf(e ast.Expr, consts map[string]string) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(v.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[v.Name]
		return s, ok
	}
	return "", false
}
