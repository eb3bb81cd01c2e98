// Package sqlrefs finds the SQL sections Go source names with constants, so
// tests can hold the code, the sql folder and the jobs' declared refs to
// one another. It reads source only; nothing at run time depends on it.
package sqlrefs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	sqlfs "github.com/parcours/parcours/sql"
)

// Use is one place the code names a section.
type Use struct {
	Ref sqlfs.Ref
	Pos string // path relative to the root, with line
}

// Package is what one folder's non-test Go files name.
type Package struct {
	Dir     string   // relative to the root, slash-separated
	Name    string   // the package clause
	Imports []string // import paths
	Uses    []Use
	HasJobs bool // declares a Spec() orchestration.Spec method
}

// Scan reads every non-test Go file under root (skipping dot folders and
// testdata) and returns, per folder that has Go files, the sections named
// with constant strings (literals or package constants) in three shapes:
// a call with a "x.sql" argument followed by a section argument
// (Section(file, "build")), a Ref literal (sqlfs.Ref{File: f, Section:
// "build"}) and a Refs call (sqlfs.Refs(f, "build", "count")).
func Scan(root string) (map[string]*Package, error) {
	files := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
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
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) && filepath.Base(p) == FileName {
			return nil // the declarations this package generates, not uses
		}
		files[filepath.Dir(p)] = append(files[filepath.Dir(p)], f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	out := map[string]*Package{}
	for dir, fs := range files {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return nil, err
		}
		p := &Package{Dir: filepath.ToSlash(rel), Name: fs[0].Name.Name}
		consts := constants(fs)
		imports := map[string]bool{}
		for _, f := range fs {
			for _, im := range f.Imports {
				if path, err := strconv.Unquote(im.Path.Value); err == nil {
					imports[path] = true
				}
			}
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && fd.Name.Name == "Spec" &&
					fd.Type.Results != nil && len(fd.Type.Results.List) == 1 && name(fd.Type.Results.List[0].Type) == "Spec" {
					p.HasJobs = true
				}
			}
		}
		helpers := helpersOf(fs, consts)
		for _, f := range fs {
			ast.Inspect(f, func(n ast.Node) bool {
				pos := func() string {
					at := fset.Position(n.Pos())
					r, _ := filepath.Rel(root, at.Filename)
					return fmt.Sprintf("%s:%d", filepath.ToSlash(r), at.Line)
				}
				for _, r := range refsIn(n, consts) {
					p.Uses = append(p.Uses, Use{Ref: r, Pos: pos()})
				}
				if r, ok := n.(*ast.RangeStmt); ok {
					for _, ref := range rangeRefs(r, consts, helpers) {
						p.Uses = append(p.Uses, Use{Ref: ref, Pos: pos()})
					}
				}
				if call, ok := n.(*ast.CallExpr); ok {
					if h, ok := helpers[name(call.Fun)]; ok && h.param < len(call.Args) {
						if s, ok := stringOf(call.Args[h.param], consts); ok {
							p.Uses = append(p.Uses, Use{Ref: sqlfs.Ref{File: h.file, Section: s}, Pos: pos()})
						}
					}
				}
				return true
			})
		}
		for path := range imports {
			p.Imports = append(p.Imports, path)
		}
		sort.Strings(p.Imports)
		sort.Slice(p.Uses, func(i, j int) bool { return p.Uses[i].Pos < p.Uses[j].Pos })
		out[p.Dir] = p
	}
	return out, nil
}

// helper is a function that runs a section of one fixed file, named by
// one of its parameters: query(ctx, wh, "totals") with a body that
// reads Section(file, section).
type helper struct {
	file  string
	param int // index of the section parameter
}

// sectionVars finds, in body, the identifiers used as the section of a
// constant file: Section(file, v), Ref{File: file, Section: v}, or v
// passed where a known helper takes its section. It maps each to the file.
func sectionVars(body ast.Node, consts map[string]string, helpers map[string]helper) map[string]string {
	out := map[string]string{}
	ast.Inspect(body, func(n ast.Node) bool {
		var fileExpr, secExpr ast.Expr
		switch v := n.(type) {
		case *ast.CallExpr:
			if name(v.Fun) == "Section" && len(v.Args) == 2 {
				fileExpr, secExpr = v.Args[0], v.Args[1]
			} else if h, ok := helpers[name(v.Fun)]; ok && h.param < len(v.Args) {
				if id, ok := v.Args[h.param].(*ast.Ident); ok {
					out[id.Name] = h.file
				}
			}
		case *ast.CompositeLit:
			fileExpr, secExpr = refFields(v)
		}
		if fileExpr == nil || secExpr == nil {
			return true
		}
		file, ok := stringOf(fileExpr, consts)
		if id, isID := secExpr.(*ast.Ident); ok && isID {
			out[id.Name] = file
		}
		return true
	})
	return out
}

// helpersOf finds a package's helpers: functions, and closures assigned
// to a name, with a string parameter the body uses as the section of a
// constant file, directly or through another helper (found until no
// more are).
func helpersOf(files []*ast.File, consts map[string]string) map[string]helper {
	type fn struct {
		name string
		ft   *ast.FuncType
		body *ast.BlockStmt
	}
	var fns []fn
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				fns = append(fns, fn{fd.Name.Name, fd.Type, fd.Body})
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
				return true
			}
			id, ok1 := as.Lhs[0].(*ast.Ident)
			fl, ok2 := as.Rhs[0].(*ast.FuncLit)
			if ok1 && ok2 {
				fns = append(fns, fn{id.Name, fl.Type, fl.Body})
			}
			return true
		})
	}
	out := map[string]helper{}
	for changed := true; changed; {
		changed = false
		for _, f := range fns {
			if _, done := out[f.name]; done {
				continue
			}
			params := map[string]int{}
			i := 0
			for _, fld := range f.ft.Params.List {
				for _, n := range fld.Names {
					if id, ok := fld.Type.(*ast.Ident); ok && id.Name == "string" {
						params[n.Name] = i
					}
					i++
				}
				if len(fld.Names) == 0 {
					i++
				}
			}
			for v, file := range sectionVars(f.body, consts, out) {
				if at, ok := params[v]; ok {
					out[f.name] = helper{file: file, param: at}
					changed = true
					break
				}
			}
		}
	}
	return out
}

// rangeRefs are the refs of a loop over a literal list of sections:
// for _, s := range []string{"a", "b"} { ... Section(file, s) ... }.
func rangeRefs(r *ast.RangeStmt, consts map[string]string, helpers map[string]helper) []sqlfs.Ref {
	lit, ok := r.X.(*ast.CompositeLit)
	v, isID := r.Value.(*ast.Ident)
	if !ok || !isID {
		return nil
	}
	file, ok := sectionVars(r.Body, consts, helpers)[v.Name]
	if !ok {
		return nil
	}
	var out []sqlfs.Ref
	for _, e := range lit.Elts {
		if s, ok := stringOf(e, consts); ok {
			out = append(out, sqlfs.Ref{File: file, Section: s})
		}
	}
	return out
}

// refFields are the File and Section expressions of a Ref literal:
// sqlfs.Ref{File: f, Section: s}, or {File: f, Section: s} in a
// []sqlfs.Ref. Either is nil when the literal is not one.
func refFields(v *ast.CompositeLit) (file, section ast.Expr) {
	if v.Type != nil && name(v.Type) != "Ref" {
		return nil, nil
	}
	for _, e := range v.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return nil, nil
		}
		switch name(kv.Key) {
		case "File":
			file = kv.Value
		case "Section":
			section = kv.Value
		}
	}
	return file, section
}

// isSQLFile is a file name of the sql folder.
func isSQLFile(f string) bool { return strings.HasSuffix(f, ".sql") && !strings.Contains(f, "/") }

// refsIn is the refs one node names.
func refsIn(n ast.Node, consts map[string]string) []sqlfs.Ref {
	switch v := n.(type) {
	case *ast.CompositeLit:
		if len(v.Elts) == 2 {
			// {"file.sql", "section"} in a table of steps
			f, ok1 := stringOf(v.Elts[0], consts)
			sec, ok2 := stringOf(v.Elts[1], consts)
			if ok1 && ok2 && isSQLFile(f) && !strings.HasSuffix(sec, ".sql") {
				return []sqlfs.Ref{{File: f, Section: sec}}
			}
		}
		fileExpr, secExpr := refFields(v)
		if fileExpr == nil || secExpr == nil {
			return nil
		}
		file, ok1 := stringOf(fileExpr, consts)
		sec, ok2 := stringOf(secExpr, consts)
		if ok1 && ok2 && isSQLFile(file) && sec != "" {
			return []sqlfs.Ref{{File: file, Section: sec}}
		}
	case *ast.CallExpr:
		var out []sqlfs.Ref
		if name(v.Fun) == "Refs" && len(v.Args) > 1 {
			file, ok := stringOf(v.Args[0], consts)
			if !ok {
				return nil
			}
			for _, a := range v.Args[1:] {
				if s, ok := stringOf(a, consts); ok {
					out = append(out, sqlfs.Ref{File: file, Section: s})
				}
			}
			return out
		}
		for i := 0; i+1 < len(v.Args); i++ {
			file, ok := stringOf(v.Args[i], consts)
			if !ok || !isSQLFile(file) {
				continue
			}
			section, ok := stringOf(v.Args[i+1], consts)
			if !ok || strings.HasSuffix(section, ".sql") {
				continue
			}
			out = append(out, sqlfs.Ref{File: file, Section: section})
		}
		return out
	}
	return nil
}

// name is the last identifier of x, x.y or x[...].
func name(e ast.Expr) string {
	switch v := e.(type) {
	case *ast.Ident:
		return v.Name
	case *ast.SelectorExpr:
		return v.Sel.Name
	}
	return ""
}

// constants are a package's string constants.
func constants(files []*ast.File) map[string]string {
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
	return consts
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
