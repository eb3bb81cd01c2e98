package export

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/parcours/parcours/jobs"
	"github.com/parcours/parcours/orchestration"
	sqlfs "github.com/parcours/parcours/sql"
)

// updateGolden, when set to 1, makes TestCommittedExports rewrite the
// committed files instead of comparing with them.
const updateGolden = "PARCOURS_UPDATE_GOLDEN"

// committed are the generated files kept in the repository, and the export
// each one is.
func committed() []struct {
	path string
	gen  func(Graph) ([]byte, error)
} {
	airflow := func(o AirflowOptions) func(Graph) ([]byte, error) {
		return func(g Graph) ([]byte, error) { return Airflow(g, o) }
	}
	// The sharded file is the export of a shard's DAG.
	sharded := func(o AirflowOptions) func(Graph) ([]byte, error) {
		return func(Graph) ([]byte, error) {
			all, err := orchestration.ShardJobs(jobs.All())
			if err != nil {
				return nil, err
			}
			d, err := orchestration.NewDAG(all, nil)
			if err != nil {
				return nil, err
			}
			return Airflow(FromDAG(d), o)
		}
	}
	return []struct {
		path string
		gen  func(Graph) ([]byte, error)
	}{
		{"../airflow/parcours_nightly.py", airflow(AirflowOptions{Operator: OperatorBash})},
		{"../airflow/parcours_nightly_k8s.py", airflow(AirflowOptions{Operator: OperatorKubernetes})},
		{"../airflow/parcours_nightly_sharded.py", sharded(AirflowOptions{Operator: OperatorBash, Shards: 4})},
		{"../dag.dot", Dot},
	}
}

// nightly is parcours' real job DAG, built as the CLI builds it.
func nightly(t *testing.T) Jobs {
	t.Helper()
	sqls, err := sqlfs.Parse(sqlfs.FS())
	if err != nil {
		t.Fatal(err)
	}
	d, err := orchestration.NewDAG(jobs.All(), sqls)
	if err != nil {
		t.Fatal(err)
	}
	return FromDAG(d)
}

// nightlySharded is a shard's DAG (`parcours jobs --shard 0/n`).
func nightlySharded(t *testing.T) Jobs {
	t.Helper()
	all, err := orchestration.ShardJobs(jobs.All())
	if err != nil {
		t.Fatal(err)
	}
	d, err := orchestration.NewDAG(all, nil)
	if err != nil {
		t.Fatal(err)
	}
	return FromDAG(d)
}

// The committed scheduler files are exactly what `parcours dag export`
// writes for today's jobs: a job added or rewired without regenerating
// them fails here. PARCOURS_UPDATE_GOLDEN=1 rewrites them.
func TestCommittedExports(t *testing.T) {
	g := nightly(t)
	for _, c := range committed() {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			want, err := c.gen(g)
			if err != nil {
				t.Fatal(err)
			}
			if os.Getenv(updateGolden) == "1" {
				if err := os.WriteFile(c.path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatalf("%v (generate it with %s=1 go test ./orchestration/export/)", err, updateGolden)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: regenerate it with %s=1 go test -tags duckdb_arrow ./orchestration/export/ -run TestCommittedExports", c.path, updateGolden)
			}
		})
	}
}
