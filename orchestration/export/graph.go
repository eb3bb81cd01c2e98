// Package export writes parcours' job DAG in the formats schedulers and
// people read: an Airflow DAG file (BashOperator or KubernetesPodOperator,
// optionally sharded with dynamic task mapping) and a Graphviz digraph.
// Every generator is pure and deterministic: the same graph and options
// give the same bytes, so the generated files can be committed and checked.
//
// The package's tests also hold the committed exports (orchestration/airflow,
// orchestration/dag.dot) to a fresh export of parcours' jobs, and run the
// hand-written cron, systemd and Kubernetes examples beside them against a
// fake parcours to see what each does with exit codes 0, 1, 2, 75 and 99.
package export

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/parcours/parcours/orchestration"
)

// Graph is the part of a job DAG the exporters read: job names in run
// order, and for each job what it needs and one line saying what it does.
// FromDAG adapts an *orchestration.DAG; tests build a Jobs by hand.
type Graph interface {
	// Order lists every job in a topological run order.
	Order() []string
	// Needs lists the jobs a job needs, in the order it declares them.
	Needs(job string) []string
	// After lists the jobs a job runs after without needing them to
	// succeed (it reads what they left).
	After(job string) []string
	// Doc is one line saying what a job does.
	Doc(job string) string
}

// Job is one node of a hand-built graph.
type Job struct {
	Name  string
	Needs []string
	After []string
	Doc   string
}

// Jobs is a Graph given in run order.
type Jobs []Job

// Order lists the job names in the order given.
func (js Jobs) Order() []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.Name
	}
	return out
}

// Needs lists what the named job needs (nil for an unknown job).
func (js Jobs) Needs(name string) []string {
	for _, j := range js {
		if j.Name == name {
			return append([]string(nil), j.Needs...)
		}
	}
	return nil
}

// After lists what the named job runs after without needing it.
func (js Jobs) After(name string) []string {
	for _, j := range js {
		if j.Name == name {
			return append([]string(nil), j.After...)
		}
	}
	return nil
}

// Doc is the named job's line of documentation.
func (js Jobs) Doc(name string) string {
	for _, j := range js {
		if j.Name == name {
			return j.Doc
		}
	}
	return ""
}

// FromDAG copies what the exporters need out of a validated DAG.
func FromDAG(d *orchestration.DAG) Jobs {
	order := d.Order()
	out := make(Jobs, 0, len(order))
	for _, n := range order {
		j, _ := d.Job(n)
		s := j.Spec()
		out = append(out, Job{Name: n, Needs: append([]string(nil), s.Needs...), After: append([]string(nil), s.After...), Doc: s.Doc})
	}
	return out
}

// taskIDPattern is Airflow's rule for task ids (airflow.utils.helpers.KEY_REGEX).
const taskIDPattern = `^[A-Za-z0-9_.-]+$`

// maxTaskID is Airflow's longest task id.
const maxTaskID = 250

// node is a job as the generators see it once the graph is checked.
type node struct {
	name  string
	needs []string
	after []string // run after, whatever their outcome
	doc   string
}

// nodes checks the graph before anything is written: every job named once
// with a name Airflow accepts, and every need a job listed earlier, so the
// order really is a run order and edges never point backwards.
func nodes(g Graph) ([]node, error) {
	valid := regexp.MustCompile(taskIDPattern)
	seen := map[string]bool{}
	var out []node
	var problems []string
	for _, name := range g.Order() {
		switch {
		case !valid.MatchString(name) || len(name) > maxTaskID:
			problems = append(problems, fmt.Sprintf("job name %q is not a valid task id (letters, digits, _ . - only, at most %d)", name, maxTaskID))
			continue
		case seen[name]:
			problems = append(problems, fmt.Sprintf("job %q is listed twice", name))
			continue
		}
		n := node{name: name, doc: g.Doc(name)}
		needSeen := map[string]bool{}
		for i, need := range append(g.Needs(name), g.After(name)...) {
			if !seen[need] {
				problems = append(problems, fmt.Sprintf("job %q needs %q, which does not come before it", name, need))
				continue
			}
			if needSeen[need] {
				continue // one edge is enough
			}
			needSeen[need] = true
			if i < len(g.Needs(name)) {
				n.needs = append(n.needs, need)
			} else {
				n.after = append(n.after, need)
			}
		}
		seen[name] = true
		out = append(out, n)
	}
	if len(out) == 0 && len(problems) == 0 {
		problems = append(problems, "the graph has no job")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("export graph: %s", strings.Join(problems, "; "))
	}
	return out, nil
}
