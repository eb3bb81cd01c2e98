package export

import (
	"bytes"
	_ "embed" // the Python template
	"fmt"
	"text/template"

	"github.com/parcours/parcours/orchestration"
)

// airflowTemplate is the Python file with the variant's blanks. Embedded
// read-only data: the one package-level value, as go:embed requires.
//
//go:embed templates/airflow.py.tmpl
var airflowTemplate string

// Operator is the Airflow operator each task runs parcours with.
type Operator string

// The operators an Airflow export can use.
const (
	// OperatorBash runs the parcours binary on the Airflow worker.
	OperatorBash Operator = "bash"
	// OperatorKubernetes runs parcours in a pod of its own image.
	OperatorKubernetes Operator = "kubernetes"
)

// mergeStage is the merge stage a sharded graph's gate job stands for
// (orchestration.GateName), or "".
func mergeStage(job string) string {
	for _, st := range orchestration.Stages() {
		if job == orchestration.GateName(st) {
			return st
		}
	}
	return ""
}

// AirflowOptions choose the variant of the generated Airflow DAG.
type AirflowOptions struct {
	// Operator defaults to OperatorBash.
	Operator Operator
	// Shards, when above zero, makes the export of a shard DAG
	// (orchestration.ShardJobs): every job runs once per shard with dynamic
	// task mapping, and each merge gate (merge_models, merge_publish) is one
	// `parcours merge --stage` task; zero runs each job once.
	Shards int
}

// Command is the `parcours dag export` command line that writes this
// variant, as the generated file names it.
func (o AirflowOptions) Command() string {
	cmd := "parcours dag export --format airflow --operator " + string(o.operator())
	if o.Shards > 0 {
		cmd += fmt.Sprintf(" --shards %d", o.Shards)
	}
	return cmd
}

func (o AirflowOptions) operator() Operator {
	if o.Operator == "" {
		return OperatorBash
	}
	return o.Operator
}

// airflowTask is one job's task as the template writes it; ID, Doc and Pod
// are Python string literals already.
type airflowTask struct {
	ID, Var, Doc, Pod string
	// Stage is set for a merge task: the `parcours merge --stage` it runs.
	Stage string
	// AllDone: the task runs once its upstream tasks are done, whatever
	// their outcome (a job with After edges: the audit, the export and the
	// report of what succeeded); parcours itself refuses it if a job it
	// needs did not succeed.
	AllDone bool
}

type airflowData struct {
	Command string
	K8s     bool
	Sharded bool
	Shards  int
	Class   string
	Tasks   []airflowTask
	Edges   [][2]string
}

// Airflow writes the Python file of an Airflow DAG (dag_id
// parcours_nightly) with one task per job of g and g's dependencies.
func Airflow(g Graph, opt AirflowOptions) ([]byte, error) {
	switch opt.operator() {
	case OperatorBash, OperatorKubernetes:
	default:
		return nil, fmt.Errorf("airflow export: unknown operator %q (want %s or %s)", opt.Operator, OperatorBash, OperatorKubernetes)
	}
	if opt.Shards < 0 {
		return nil, fmt.Errorf("airflow export: %d shards: want 0 (not sharded) or more", opt.Shards)
	}
	ns, err := nodes(g)
	if err != nil {
		return nil, fmt.Errorf("airflow export: %w", err)
	}
	d := airflowData{
		Command: opt.Command(),
		K8s:     opt.operator() == OperatorKubernetes,
		Sharded: opt.Shards > 0,
		Shards:  opt.Shards,
		Class:   "ParcoursBashOperator",
	}
	if d.K8s {
		d.Class = "ParcoursPodOperator"
	}
	vars := map[string]string{}
	owner := map[string]string{}
	for _, n := range ns {
		v := pyIdent(n.name)
		if other, dup := owner[v]; dup {
			return nil, fmt.Errorf("airflow export: jobs %q and %q would share the Python name %s", other, n.name, v)
		}
		owner[v] = n.name
		vars[n.name] = v
		task := airflowTask{ID: pyString(n.name), Var: v, Doc: pyString(n.doc), Pod: pyString(podName(n.name)), AllDone: len(n.after) > 0}
		if d.Sharded {
			task.Stage = mergeStage(n.name)
			if task.Stage != "" {
				task.Doc = pyString("parcours merge --stage " + task.Stage + " over every shard; on success each shard's " + n.name + " is marked done")
			}
		}
		d.Tasks = append(d.Tasks, task)
	}
	for _, n := range ns {
		for _, need := range append(n.needs, n.after...) {
			d.Edges = append(d.Edges, [2]string{vars[need], vars[n.name]})
		}
	}
	if d.Sharded {
		// The route stage loads the night on the merged warehouse before
		// any shard job runs (a shard's ingest copies its slice from it).
		route := orchestration.GateName(orchestration.StageRoute)
		if _, dup := owner[pyIdent(route)]; dup {
			return nil, fmt.Errorf("airflow export: a job is named %s, the route stage's task", route)
		}
		d.Tasks = append([]airflowTask{{ID: pyString(route), Var: pyIdent(route), Pod: pyString(podName(route)), Stage: orchestration.StageRoute,
			Doc: pyString("parcours merge --stage route: load and stitch the whole input once on WAREHOUSE, route every fact to its shard")}}, d.Tasks...)
		for _, n := range ns {
			if len(n.needs)+len(n.after) == 0 {
				d.Edges = append(d.Edges, [2]string{pyIdent(route), vars[n.name]})
			}
		}
	}
	if d.Sharded {
		d.Edges = append(d.Edges, chain(ns, vars)...)
	}
	t, err := template.New("airflow").Parse(airflowTemplate)
	if err != nil {
		return nil, fmt.Errorf("airflow export: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("airflow export: %w", err)
	}
	return b.Bytes(), nil
}

// chain is the edges that make a sharded graph's jobs run one at a time,
// in parcours' order: two tasks of one shard running together would meet
// on its warehouse lock and the second would spend a retry on exit 75.
// Each consecutive pair gets an edge unless the graph already orders it.
// The graph's own edges are enough to tell: ns is in topological order, so
// an edge added between earlier pairs never leads from ns[i-1] to ns[i].
func chain(ns []node, vars map[string]string) [][2]string {
	ancestors := map[string]map[string]bool{}
	for _, n := range ns {
		ancestors[n.name] = map[string]bool{}
		for _, need := range append(n.needs, n.after...) {
			ancestors[n.name][need] = true
			for a := range ancestors[need] {
				ancestors[n.name][a] = true
			}
		}
	}
	var out [][2]string
	for i := 1; i < len(ns); i++ {
		if a, b := ns[i-1].name, ns[i].name; !ancestors[b][a] {
			out = append(out, [2]string{vars[a], vars[b]})
		}
	}
	return out
}
