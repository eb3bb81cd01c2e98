package orchestration

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	sqlfs "github.com/parcours/parcours/sql"
)

// ErrInvalidDAG is wrapped by every DAG validation error (exit code 2).
var ErrInvalidDAG = errors.New("invalid job DAG")

// DAG is a validated set of jobs in a stable topological order.
type DAG struct {
	jobs   map[string]Job
	order  []string
	list   []string // registration order, the tie-breaker
	childs map[string][]string
}

// NewDAG validates jobs before anything runs: unique names, known needs,
// no cycle, and every SQL section a job declares present in sqls.
func NewDAG(jobs []Job, sqls *sqlfs.Set) (*DAG, error) {
	d := &DAG{jobs: map[string]Job{}, childs: map[string][]string{}}
	var problems []string
	for _, j := range jobs {
		s := j.Spec()
		if s.Name == "" {
			problems = append(problems, "a job has no name")
			continue
		}
		if _, dup := d.jobs[s.Name]; dup {
			problems = append(problems, fmt.Sprintf("job %q is registered twice", s.Name))
			continue
		}
		d.jobs[s.Name] = j
		d.list = append(d.list, s.Name)
	}
	for _, name := range d.list {
		s := d.jobs[name].Spec()
		for i, n := range s.Deps() {
			if _, ok := d.jobs[n]; !ok {
				verb := "needs"
				if i >= len(s.Needs) {
					verb = "comes after"
				}
				problems = append(problems, fmt.Sprintf("job %q %s unknown job %q", name, verb, n))
				continue
			}
			d.childs[n] = append(d.childs[n], name)
		}
		if sqls != nil {
			noFile := map[string]bool{}
			for _, r := range sqls.Missing(s.SQL) {
				switch {
				case sqls.Has(r.File):
					problems = append(problems, fmt.Sprintf("job %q runs sql/%s section %q, which does not exist", name, r.File, r.Section))
				case !noFile[r.File]:
					noFile[r.File] = true
					problems = append(problems, fmt.Sprintf("job %q runs sql/%s, which does not exist", name, r.File))
				}
			}
		}
	}
	if len(problems) == 0 {
		order, cycle := d.topo()
		if cycle != nil {
			problems = append(problems, "jobs form a cycle: "+strings.Join(cycle, " -> "))
		}
		d.order = order
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w:\n  %s", ErrInvalidDAG, strings.Join(problems, "\n  "))
	}
	return d, nil
}

// topo is Kahn's algorithm, picking ready jobs in registration order so the
// order is stable; on a cycle it returns one cycle's path.
func (d *DAG) topo() ([]string, []string) {
	indeg := map[string]int{}
	for _, n := range d.list {
		indeg[n] = len(d.jobs[n].Spec().Deps())
	}
	pos := map[string]int{}
	for i, n := range d.list {
		pos[n] = i
	}
	var ready, order []string
	for _, n := range d.list {
		if indeg[n] == 0 {
			ready = append(ready, n)
		}
	}
	for len(ready) > 0 {
		sort.Slice(ready, func(a, b int) bool { return pos[ready[a]] < pos[ready[b]] })
		n := ready[0]
		ready = ready[1:]
		order = append(order, n)
		for _, c := range d.childs[n] {
			if indeg[c]--; indeg[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	if len(order) == len(d.list) {
		return order, nil
	}
	return nil, d.findCycle(indeg)
}

func (d *DAG) findCycle(indeg map[string]int) []string {
	// Walk needs from any job left with unmet needs until a job repeats.
	var start string
	for _, n := range d.list {
		if indeg[n] > 0 {
			start = n
			break
		}
	}
	seen := map[string]int{}
	var path []string
	for cur := start; ; {
		if i, ok := seen[cur]; ok {
			cyc := append([]string{}, path[i:]...)
			// needs point upstream; print in run order
			for a, b := 0, len(cyc)-1; a < b; a, b = a+1, b-1 {
				cyc[a], cyc[b] = cyc[b], cyc[a]
			}
			return append(cyc, cyc[0])
		}
		seen[cur] = len(path)
		path = append(path, cur)
		for _, n := range d.jobs[cur].Spec().Deps() {
			if indeg[n] > 0 {
				cur = n
				break
			}
		}
	}
}

// Order lists every job in run order.
func (d *DAG) Order() []string { return append([]string{}, d.order...) }

// Job returns a job by name.
func (d *DAG) Job(name string) (Job, bool) { j, ok := d.jobs[name]; return j, ok }

// Upstream lists every job that transitively comes before name (needed,
// or read after it ran).
func (d *DAG) Upstream(name string) map[string]bool {
	out := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		for _, u := range d.jobs[n].Spec().Deps() {
			if !out[u] {
				out[u] = true
				walk(u)
			}
		}
	}
	walk(name)
	return out
}

// Select returns, in run order, the named jobs (all for "nightly" or none
// given), plus their upstream jobs when withUpstream is set.
func (d *DAG) Select(targets []string, withUpstream bool) ([]string, error) {
	if len(targets) == 0 || (len(targets) == 1 && targets[0] == "nightly") {
		return d.Order(), nil
	}
	want := map[string]bool{}
	for _, t := range targets {
		if _, ok := d.jobs[t]; !ok {
			return nil, Usage("unknown job %q (jobs: %s)", t, strings.Join(d.order, ", "))
		}
		want[t] = true
		if withUpstream {
			for u := range d.Upstream(t) {
				want[u] = true
			}
		}
	}
	var out []string
	for _, n := range d.order {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
