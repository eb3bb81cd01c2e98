package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/parcours/parcours/orchestration"
)

// sample is a small hand-built DAG with the awkward cases: a job named like
// a Python builtin, a name with a dash, a need listed twice, quotes,
// backslashes, accents and braces in docs, and two ends (load, notify).
func sample() Jobs {
	return Jobs{
		{Name: "extract", Doc: `pull "raw" files from C:\in`},
		{Name: "range", Needs: []string{"extract"}, Doc: "a job named like a Python builtin"},
		{Name: "clean-up", Needs: []string{"extract"}, Doc: "accents é and {{ ds }} braces"},
		{Name: "load", Needs: []string{"range", "clean-up", "range"}},
		{Name: "notify", Needs: []string{"extract"}, Doc: "l'alerte"},
	}
}

// shardSample is sample as a shard graph: a merge gate between jobs.
func shardSample() Jobs {
	js := sample()
	js = append(js[:3], append(Jobs{{Name: "merge_models", Needs: []string{"range"}, Doc: "wait for the merge"}}, js[3:]...)...)
	js[4].Needs = []string{"merge_models", "clean-up"}
	return js
}

// astDump is what dag_graph.py prints.
type astDump struct {
	DAG   map[string]any `json:"dag"`
	Tasks map[string]struct {
		Operator string         `json:"operator"`
		Mapped   bool           `json:"mapped"`
		Keywords map[string]any `json:"keywords"`
		Expand   map[string]any `json:"expand"`
	} `json:"tasks"`
	Edges   [][]string `json:"edges"`
	Classes map[string]struct {
		Bases    []string `json:"bases"`
		Methods  []string `json:"methods"`
		Raises   []string `json:"raises"`
		Compares []string `json:"compares"`
	} `json:"classes"`
	Imports []struct {
		Module string   `json:"module"`
		Names  []string `json:"names"`
	} `json:"imports"`
}

// behaviour is what dag_behaviour.py prints.
type behaviour struct {
	DAG   map[string]any `json:"dag"`
	Tasks map[string]struct {
		Operator    string            `json:"operator"`
		Mapped      bool              `json:"mapped"`
		TriggerRule string            `json:"trigger_rule"`
		Commands    []json.RawMessage `json:"commands"`
	} `json:"tasks"`
	Edges     [][]string                   `json:"edges"`
	ExitCodes map[string]map[string]string `json:"exit_codes"`
}

// wantGraph is the task set and edge set an export of g must declare.
func wantGraph(t *testing.T, g Graph) (tasks, edges []string) {
	t.Helper()
	ns, err := nodes(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		tasks = append(tasks, n.name)
		for _, need := range append(n.needs, n.after...) {
			edges = append(edges, need+" >> "+n.name)
		}
	}
	sort.Strings(tasks)
	sort.Strings(edges)
	return tasks, edges
}

// checkEdges: a single-node export declares exactly parcours' edges; a
// sharded one declares them and more, so that its tasks are totally
// ordered: two jobs never run at once on a shard's warehouse.
func checkEdges(t *testing.T, where string, es [][]string, tasks, want []string, sharded bool) {
	t.Helper()
	got := edgeSet(es)
	if !sharded {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: edges = %v, want %v", where, got, want)
		}
		return
	}
	for _, w := range want {
		if !contains(got, w) {
			t.Errorf("%s: edge %s missing", where, w)
		}
	}
	reach := map[string]map[string]bool{}
	for _, e := range es {
		if reach[e[0]] == nil {
			reach[e[0]] = map[string]bool{}
		}
		reach[e[0]][e[1]] = true
	}
	for changed := true; changed; {
		changed = false
		for a, bs := range reach {
			for b := range bs {
				for c := range reach[b] {
					if !reach[a][c] {
						reach[a][c], changed = true, true
					}
				}
			}
		}
	}
	for i, a := range tasks {
		for _, b := range tasks[i+1:] {
			if !reach[a][b] && !reach[b][a] {
				t.Errorf("%s: %s and %s can run at the same time on a shard", where, a, b)
			}
		}
	}
}

func edgeSet(es [][]string) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, strings.Join(e, " >> "))
	}
	sort.Strings(out)
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkAirflowFile checks a generated DAG file against g without Airflow:
// it compiles, its ast declares g's tasks and edges with the settings the
// exit-code contract needs, and loaded against stand-ins for Airflow 2 and
// 3 it wires the same graph, renders {{ ds }} into the expected commands and
// maps parcours' exit codes to success, skip, retry or failure.
func checkAirflowFile(t *testing.T, path string, g Graph, opt AirflowOptions) {
	t.Helper()
	pyCompile(t, path)
	sharded := opt.Shards > 0
	wantTasks, wantEdges := wantGraph(t, g)
	if sharded {
		// The route stage comes before every shard job.
		route := orchestration.GateName(orchestration.StageRoute)
		for _, id := range wantTasks {
			if len(g.Needs(id))+len(g.After(id)) == 0 {
				wantEdges = append(wantEdges, route+" >> "+id)
			}
		}
		wantTasks = append(wantTasks, route)
		sort.Strings(wantTasks)
		sort.Strings(wantEdges)
	}

	var dump astDump
	if err := json.Unmarshal(python(t, nil, graphScript, path), &dump); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(dump.Tasks); !reflect.DeepEqual(got, wantTasks) {
		t.Errorf("ast tasks = %v, want %v", got, wantTasks)
	}
	checkEdges(t, "ast", dump.Edges, wantTasks, wantEdges, sharded)
	wantActive := 1.0
	if sharded {
		wantActive = float64(opt.Shards)
	}
	for k, want := range map[string]any{"dag_id": "parcours_nightly", "catchup": false, "max_active_runs": 1.0, "max_active_tasks": wantActive} {
		if got := dump.DAG[k]; got != want {
			t.Errorf("DAG %s = %v, want %v", k, got, want)
		}
	}
	if sched, _ := dump.DAG["schedule"].(map[string]any); sched["call"] != "CronDataIntervalTimetable" {
		t.Errorf("schedule = %v, want the cron data-interval timetable (ds = the day that ended, on Airflow 2 and 3)", dump.DAG["schedule"])
	}
	class, base, cmdKey, runHelper, shardHelper, mergeHelper := "ParcoursBashOperator", "BashOperator", "bash_command", "run_command", "shard_commands", "merge_command"
	if opt.operator() == OperatorKubernetes {
		class, base, cmdKey, runHelper, shardHelper, mergeHelper = "ParcoursPodOperator", "KubernetesPodOperator", "arguments", "run_args", "shard_args", "merge_args"
	}
	c, ok := dump.Classes[class]
	switch {
	case !ok:
		t.Errorf("no class %s in %v", class, keysOf(dump.Classes))
	case !reflect.DeepEqual(c.Bases, []string{base}) || !contains(c.Raises, "AirflowFailException") || !contains(c.Compares, "EXIT_TEMPORARY"):
		t.Errorf("%s = %+v: want a %s that raises AirflowFailException unless the exit code is EXIT_TEMPORARY", class, c, base)
	}
	for id, task := range dump.Tasks {
		kw := task.Keywords
		if task.Operator != class || !reflect.DeepEqual(kw["**"], []any{"TASK_DEFAULTS"}) {
			t.Errorf("task %s: operator %s with %v, want %s(**TASK_DEFAULTS)", id, task.Operator, kw["**"], class)
		}
		if kw["skip_on_exit_code"] != 99.0 || kw["retries"] != 3.0 {
			t.Errorf("task %s: skip_on_exit_code %v, retries %v: want 99 (nothing to do) and 3", id, kw["skip_on_exit_code"], kw["retries"])
		}
		if want := opt.operator() == OperatorKubernetes; kw["do_xcom_push"] != want {
			t.Errorf("task %s: do_xcom_push %v, want %v", id, kw["do_xcom_push"], want)
		}
		// The warehouse is a local folder: bash tasks go to the queue of its host.
		if opt.operator() == OperatorBash && kw["queue"] != "default" {
			t.Errorf("task %s: queue %v, want QUEUE (\"default\" until set)", id, kw["queue"])
		}
		if opt.operator() == OperatorKubernetes && kw["name"] != podName(id) {
			t.Errorf("task %s: pod name %v, want %s", id, kw["name"], podName(id))
		}
		cmd := kw[cmdKey]
		helper, arg := runHelper, id
		mapped := sharded
		if st := mergeStage(id); sharded && st != "" {
			// A merge gate is one task: `parcours merge --stage` over every shard.
			helper, arg, mapped = mergeHelper, st, false
		} else if sharded {
			helper, cmd = shardHelper, task.Expand[cmdKey]
		}
		if task.Mapped != mapped {
			t.Errorf("task %s: mapped %v, want %v", id, task.Mapped, mapped)
		}
		if call, _ := cmd.(map[string]any); call["call"] != helper || !reflect.DeepEqual(call["args"], []any{arg}) {
			t.Errorf("task %s: %s = %v, want %s(%q)", id, cmdKey, cmd, helper, arg)
		}
	}

	for _, layout := range []string{"2", "3"} {
		var b behaviour
		out := python(t, nil, behaviourScript, path, "--airflow", layout, "--ds", "2026-03-01")
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatal(err)
		}
		if got := keysOf(b.Tasks); !reflect.DeepEqual(got, wantTasks) {
			t.Errorf("Airflow %s: tasks = %v, want %v", layout, got, wantTasks)
		}
		checkEdges(t, "Airflow "+layout, b.Edges, wantTasks, wantEdges, sharded)
		for id, task := range b.Tasks {
			want := wantCommands(id, opt)
			var got []string
			for _, raw := range task.Commands {
				got = append(got, commandText(t, raw))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Airflow %s: task %s runs\n%q\nwant\n%q", layout, id, got, want)
			}
			// A job that only comes after others runs whatever they did.
			wantRule := "all_success"
			if len(g.After(id)) > 0 {
				wantRule = "all_done"
			}
			if task.TriggerRule != wantRule {
				t.Errorf("Airflow %s: task %s trigger rule %s, want %s", layout, id, task.TriggerRule, wantRule)
			}
			wantCodes := map[string]string{"0": "success", "1": "failed", "2": "failed", "75": "retry",
				"99": "skipped", "137": "failed", "none": "retry"}
			if got := b.ExitCodes[id]; !reflect.DeepEqual(got, wantCodes) {
				t.Errorf("Airflow %s: task %s exit codes = %v, want %v", layout, id, got, wantCodes)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// commandText is a bash command as is, or a pod's argv joined by spaces.
func commandText(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var argv []string
	if err := json.Unmarshal(raw, &argv); err != nil {
		t.Fatalf("command %s: %v", raw, err)
	}
	return strings.Join(argv, " ")
}

// wantCommands are the commands a task runs on 2026-03-01, written out in
// full from the generated file's default settings.
func wantCommands(task string, opt AirflowOptions) []string {
	const day = "2026-03-01"
	k8s := opt.operator() == OperatorKubernetes
	if st := mergeStage(task); opt.Shards > 0 && st != "" {
		if k8s {
			cmd := "parcours merge --stage " + st + " --date " + day + " --warehouse /var/lib/parcours/warehouse"
			for i := 0; i < opt.Shards; i++ {
				cmd += fmt.Sprintf(" --shards /var/lib/parcours/shards/%d", i)
			}
			return []string{cmd + " --summary-json /airflow/xcom/return.json"}
		}
		cmd := "/usr/local/bin/parcours merge --stage " + st + " --date '" + day + "' --warehouse /srv/parcours/warehouse"
		for i := 0; i < opt.Shards; i++ {
			cmd += fmt.Sprintf(" --shards /srv/parcours/shards/%d", i)
		}
		return []string{cmd + " --summary-json '/var/log/parcours/summaries/" + day + "/merge_" + st + ".json'"}
	}
	if opt.Shards == 0 {
		if k8s {
			return []string{"parcours run " + task + " --date " + day +
				" --warehouse /var/lib/parcours/warehouse --summary-json /airflow/xcom/return.json"}
		}
		return []string{"/usr/local/bin/parcours run " + task + " --date '" + day +
			"' --warehouse /srv/parcours/warehouse --summary-json '/var/log/parcours/summaries/" + day + "/" + task + ".json'"}
	}
	var out []string
	for i := 0; i < opt.Shards; i++ {
		if k8s {
			out = append(out, fmt.Sprintf("parcours run %s --date %s --shard %d/%d --merged /var/lib/parcours/warehouse --warehouse /var/lib/parcours/shards/%d --summary-json /airflow/xcom/return.json",
				task, day, i, opt.Shards, i))
			continue
		}
		out = append(out, fmt.Sprintf("/usr/local/bin/parcours run %s --date '%s' --shard %d/%d --merged /srv/parcours/warehouse --warehouse /srv/parcours/shards/%d --summary-json '/var/log/parcours/summaries/%s/%s.shard-%d.json'",
			task, day, i, opt.Shards, i, day, task, i))
	}
	return out
}

func TestAirflowVariants(t *testing.T) {
	tests := []AirflowOptions{
		{},
		{Operator: OperatorKubernetes},
		{Operator: OperatorBash, Shards: 3},
		{Operator: OperatorKubernetes, Shards: 2},
		{Operator: OperatorBash, Shards: 1},
	}
	for _, opt := range tests {
		t.Run(opt.Command(), func(t *testing.T) {
			t.Parallel()
			g := sample()
			if opt.Shards > 0 {
				g = shardSample()
			}
			b, err := Airflow(g, opt)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Airflow(g, opt)
			if err != nil || !bytes.Equal(b, again) {
				t.Fatalf("two exports differ (err %v)", err)
			}
			if first := strings.SplitN(string(b), "\n", 2)[0]; first != "# Generated by parcours dag export; do not edit. Regenerate with: "+opt.Command() {
				t.Errorf("first line %q does not say it is generated, and how", first)
			}
			checkAirflowFile(t, writeTemp(t, "dag.py", b), g, opt)
		})
	}
}

// The committed Airflow files declare exactly parcours' own DAG.
func TestCommittedAirflowGraphs(t *testing.T) {
	g := nightly(t)
	tests := []struct {
		path string
		opt  AirflowOptions
	}{
		{"../airflow/parcours_nightly.py", AirflowOptions{Operator: OperatorBash}},
		{"../airflow/parcours_nightly_k8s.py", AirflowOptions{Operator: OperatorKubernetes}},
		{"../airflow/parcours_nightly_sharded.py", AirflowOptions{Operator: OperatorBash, Shards: 4}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			t.Parallel()
			if tt.opt.Shards > 0 {
				checkAirflowFile(t, tt.path, nightlySharded(t), tt.opt)
				return
			}
			checkAirflowFile(t, tt.path, g, tt.opt)
		})
	}
}

func TestAirflowErrors(t *testing.T) {
	tests := []struct {
		name string
		g    Jobs
		opt  AirflowOptions
		want string
	}{
		{"unknown operator", sample(), AirflowOptions{Operator: "docker"}, `unknown operator "docker"`},
		{"negative shards", sample(), AirflowOptions{Shards: -1}, "-1 shards"},
		{"two names, one variable", Jobs{{Name: "a-b"}, {Name: "a_b"}}, AirflowOptions{}, `jobs "a-b" and "a_b" would share the Python name a_b`},
		{"need after the job", Jobs{{Name: "b", Needs: []string{"a"}}, {Name: "a"}}, AirflowOptions{}, `job "b" needs "a", which does not come before it`},
		{"unknown need", Jobs{{Name: "b", Needs: []string{"ghost"}}}, AirflowOptions{}, `job "b" needs "ghost"`},
		{"duplicate job", Jobs{{Name: "a"}, {Name: "a"}}, AirflowOptions{}, `job "a" is listed twice`},
		{"invalid task id", Jobs{{Name: "a b"}}, AirflowOptions{}, `job name "a b" is not a valid task id`},
		{"empty", Jobs{}, AirflowOptions{}, "the graph has no job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Airflow(tt.g, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
