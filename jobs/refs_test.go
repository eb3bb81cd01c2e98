package jobs

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/sqlrefs"
	"github.com/parcours/parcours/jobs/merge"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// Every package that holds jobs has a current sql_refs.go (the sections
// its code, and the code it imports, names), and every job declares at
// least those in its Spec: the DAG's check before the night then covers
// every section a job can reach by a constant name.
func TestDeclaredRefs(t *testing.T) {
	pkgs, err := sqlrefs.Scan("..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := sqlrefs.Generate(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range files {
		got, err := os.ReadFile(filepath.Join("..", dir, sqlrefs.FileName))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/%s is stale or missing (%v): run `make generate`", dir, sqlrefs.FileName, err)
		}
	}
	all := All()
	for _, stage := range []string{orchestration.StageRoute, orchestration.StageModels, orchestration.StagePublish} {
		all = append(all, merge.Jobs(All(), stage)...)
	}
	declared := sqlrefs.Declared(pkgs)
	checked := 0
	for _, j := range all {
		s := j.Spec()
		dir := strings.TrimPrefix(reflect.TypeOf(j).Elem().PkgPath(), sqlrefs.Module+"/")
		if dir == "orchestration" {
			continue // a merge-stage wrapper around a job checked on its own
		}
		have := map[sqlfs.Ref]bool{}
		for _, r := range s.SQL {
			have[r] = true
		}
		for _, r := range declared[dir] {
			checked++
			if !have[r] {
				t.Errorf("job %s (%s) runs %s but does not declare it: its Spec.SQL should start from sqlRefs()", s.Name, dir, r)
			}
		}
	}
	if checked < 300 {
		t.Fatalf("checked %d declarations: the scan is not seeing the jobs", checked)
	}
}
