package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/jobs"
	"github.com/parcours/parcours/orchestration"
	"github.com/parcours/parcours/orchestration/export"
)

func (a *app) dagCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "dag",
		Short: "Export the nightly DAG for schedulers (Airflow) and for Graphviz",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(a.dagExportCommand())
	return c
}

func (a *app) dagExportCommand() *cobra.Command {
	var format, operator, out string
	var shards int
	var asJSON bool
	c := &cobra.Command{
		Use:   "export",
		Short: "Write the nightly DAG as an Airflow DAG file or a Graphviz digraph",
		Long: `Write the nightly DAG, one task or node per job with the jobs' own
dependencies: an Airflow DAG file (dag_id parcours_nightly; BashOperator, or
KubernetesPodOperator with --operator kubernetes; with --shards N the shard
DAG: every job once per shard through dynamic task mapping, and the two
merge stages, merge_models and merge_publish, as parcours merge tasks) or a
Graphviz digraph (--format dot). The output is deterministic: the files in
orchestration/airflow/ and orchestration/dag.dot are this command's output.`,
		Example: `  parcours dag export --out dags/parcours_nightly.py
  parcours dag export --operator kubernetes --out dags/parcours_nightly.py
  parcours dag export --shards 4 --out dags/parcours_nightly.py
  parcours dag export --format dot | dot -Tsvg > dag.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			switch format {
			case "airflow":
				if operator != string(export.OperatorBash) && operator != string(export.OperatorKubernetes) {
					return orchestration.Usage("--operator %q: want %s or %s", operator, export.OperatorBash, export.OperatorKubernetes)
				}
				if shards < 0 {
					return orchestration.Usage("--shards %d: want 0 (not sharded) or more", shards)
				}
			case "dot":
				if f.Changed("operator") || f.Changed("shards") {
					return orchestration.Usage("--operator and --shards apply to --format airflow only")
				}
			default:
				return orchestration.Usage("--format %q: want airflow or dot", format)
			}
			sqls, err := a.sqlSet()
			if err != nil {
				return err
			}
			all := jobs.All()
			if shards > 0 {
				if all, err = orchestration.ShardJobs(all); err != nil {
					return err
				}
			}
			dag, err := orchestration.NewDAG(all, sqls)
			if err != nil {
				return err
			}
			g := export.FromDAG(dag)
			var b []byte
			if format == "dot" {
				b, err = export.Dot(g)
			} else {
				b, err = export.Airflow(g, export.AirflowOptions{Operator: export.Operator(operator), Shards: shards})
			}
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeDAGFile(out, b); err != nil {
					return err
				}
			}
			if asJSON {
				res := map[string]any{"format": format, "jobs": len(dag.Order()), "bytes": len(b)}
				if format == "airflow" {
					res["operator"], res["shards"] = operator, shards
				}
				if out != "" {
					res["file"] = out
				} else {
					res["content"] = string(b)
				}
				return a.printJSON(res)
			}
			if out == "" {
				_, err := a.stdout.Write(b)
				return err
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVarP(&format, "format", "o", "airflow", "airflow | dot")
	fl.StringVar(&operator, "operator", string(export.OperatorBash), "Airflow operator: bash | kubernetes")
	fl.IntVar(&shards, "shards", 0, "export the shard DAG: jobs mapped over N shards, merges between them; 0: not sharded")
	fl.StringVar(&out, "out", "", "write to this file instead of stdout")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object (what was written; the file's content when there is no --out)")
	return c
}

// writeDAGFile replaces path with b in one rename, so a scheduler
// watching a DAG folder never parses half a file.
func writeDAGFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
