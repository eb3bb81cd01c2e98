// Command gen writes sql_refs.go in every package that holds jobs: the SQL
// sections its jobs declare. Run it from the module root after changing
// which sections the code runs (make generate); a test fails until then.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/parcours/parcours/internal/sqlrefs"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "sqlrefs:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	pkgs, err := sqlrefs.Scan(root)
	if err != nil {
		return err
	}
	files, err := sqlrefs.Generate(pkgs)
	if err != nil {
		return err
	}
	for dir, src := range files {
		if err := os.WriteFile(filepath.Join(root, dir, sqlrefs.FileName), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}
