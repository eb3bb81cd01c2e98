package orchestration

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Shard is one customer shard of n: the customers whose customer_key
// hashes to Index (ShardOf). Count 0 means an unsharded warehouse.
type Shard struct {
	Index, Count int
}

// Sharded reports whether the run processes one shard, not everything.
func (s Shard) Sharded() bool { return s.Count > 0 }

func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, Usage("--shard %q: want i/n with 0 <= i < n, e.g. 2/4", v)
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardOf is the shard of a customer key: its first 32 bits (keys are hex
// HMACs, so uniform) modulo n. The SQL macro in_shard computes the same
// (internal/warehouse); a key that is not hex goes to shard 0.
func ShardOf(customerKey string, n int) int {
	if n <= 1 || len(customerKey) < 8 {
		return 0
	}
	v, err := strconv.ParseUint(customerKey[:8], 16, 32)
	if err != nil {
		return 0
	}
	return int(v % uint64(n))
}

// Placement says where a job runs when the warehouse is sharded.
type Placement int

const (
	// OnShards jobs run on every shard over the shard's customers.
	OnShards Placement = iota
	// OnMerge jobs run only in `parcours merge`, on the combined warehouse.
	OnMerge
	// OnBoth jobs have a shard part (env.Shard set) and a merged part
	// (env.Merged) that runs after it in the job's merge stage.
	OnBoth
)

// Merge stages, in the order a sharded night runs them. The route stage
// comes before any shard: the merged warehouse loads and stitches the
// whole input, and routes its facts to the shards.
const (
	StageRoute   = "route"
	StageModels  = "models"
	StagePublish = "publish"
)

// Stages lists the merge stages in the order a sharded night runs them.
// The route stage opens no gate: it runs before the shards, whose ingest
// waits for its route.
func Stages() []string { return []string{StageRoute, StageModels, StagePublish} }

// GateName is the shard job that waits for a merge stage.
func GateName(stage string) string { return "merge_" + stage }

// ErrWaiting says a shard run reached a merge gate that `parcours merge`
// has not opened yet: the run stops there, successfully, and its
// downstream jobs run on the next pass after the merge.
var ErrWaiting = errors.New("waiting for the merge")

// StatusWaiting is a shard job waiting for a merge stage, or downstream
// of one.
const StatusWaiting = "waiting_merge"

type gate struct {
	stage string
	needs []string
}

func (g *gate) Spec() Spec {
	return Spec{Name: GateName(g.stage), Needs: g.needs,
		Doc: "wait until `parcours merge --stage " + g.stage + "` has run for the date (it marks this job succeeded)"}
}

func (g *gate) Run(ctx context.Context, env *Env) (Counts, error) {
	return Counts{}, fmt.Errorf("%w: run `parcours merge --stage %s --date %s`, then this shard again",
		ErrWaiting, g.stage, env.DateString())
}

// respec is a job with different needs.
type respec struct {
	Job
	needs []string
}

// A derived DAG keeps only hard needs: a shard's After edges become Needs
// (a shard or merge stage stops at a failure as a whole; the merge's
// publish stage reads every shard).
func (r *respec) Spec() Spec { s := r.Job.Spec(); s.Needs, s.After = r.needs, nil; return s }

// ShardJobs derives a shard's DAG from the jobs: OnMerge jobs are left
// out; a job needing a job with a merged part also needs that part's merge
// gate, unless the gate itself comes after the job (the merge reads what
// the job left, as purge's snapshot for kpis); each gate needs the shard
// jobs its stage's merged parts read.
func ShardJobs(all []Job) ([]Job, error) {
	spec := map[string]Spec{}
	for _, j := range all {
		s := j.Spec()
		spec[s.Name] = s
	}
	runsOnShard := func(n string) bool { return spec[n].Placement != OnMerge }
	merged := func(n string) bool { p := spec[n].Placement; return p == OnMerge || p == OnBoth }
	gateNeeds := map[string][]string{}
	for _, j := range all {
		s := j.Spec()
		if !merged(s.Name) {
			continue
		}
		if s.MergeStage != StageModels && s.MergeStage != StagePublish {
			return nil, fmt.Errorf("%w: job %q runs on the merge but names no merge stage", ErrInvalidDAG, s.Name)
		}
		if s.Placement == OnBoth {
			gateNeeds[s.MergeStage] = append(gateNeeds[s.MergeStage], s.Name)
		}
		for _, n := range s.Deps() {
			if runsOnShard(n) {
				gateNeeds[s.MergeStage] = append(gateNeeds[s.MergeStage], n)
			}
		}
	}
	// upstream of a gate, through shard jobs only
	var before func(name string, seen map[string]bool)
	before = func(name string, seen map[string]bool) {
		for _, n := range spec[name].Deps() {
			if runsOnShard(n) && !seen[n] {
				seen[n] = true
				before(n, seen)
			}
		}
	}
	gateUp := map[string]map[string]bool{}
	for st, needs := range gateNeeds {
		seen := map[string]bool{}
		for _, n := range needs {
			seen[n] = true
			before(n, seen)
		}
		gateUp[st] = seen
	}
	var out []Job
	for _, j := range all {
		s := j.Spec()
		if !runsOnShard(s.Name) {
			continue
		}
		set := map[string]bool{}
		for _, n := range s.Deps() {
			if runsOnShard(n) {
				set[n] = true
			}
			if merged(n) && !gateUp[spec[n].MergeStage][s.Name] {
				set[GateName(spec[n].MergeStage)] = true
			}
		}
		out = append(out, &respec{Job: j, needs: sortedKeys(set)})
	}
	for _, st := range Stages() {
		if needs, ok := gateNeeds[st]; ok {
			set := map[string]bool{}
			for _, n := range needs {
				set[n] = true
			}
			out = append(out, &gate{stage: st, needs: sortedKeys(set)})
		}
	}
	return out, nil
}

// MergeJobs derives the DAG of one merge stage: the merged parts of the
// stage's jobs, their needs kept among themselves and on earlier stages'
// jobs dropped (already merged), plus gather (run first) and finish (run
// last, after every merged job).
func MergeJobs(all []Job, stage string, gather, finish Job) []Job {
	in := map[string]bool{}
	for _, j := range all {
		s := j.Spec()
		if (s.Placement == OnMerge || s.Placement == OnBoth) && s.MergeStage == stage {
			in[s.Name] = true
		}
	}
	out := []Job{gather}
	var names []string
	for _, j := range all {
		s := j.Spec()
		if !in[s.Name] {
			continue
		}
		needs := []string{gather.Spec().Name}
		for _, n := range s.Deps() {
			if in[n] {
				needs = append(needs, n)
			}
		}
		out = append(out, &respec{Job: j, needs: needs})
		names = append(names, s.Name)
	}
	return append(out, &respec{Job: finish, needs: names})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WithNeeds returns j with other needs (to rewire a derived DAG).
func WithNeeds(j Job, needs []string) Job { return &respec{Job: j, needs: needs} }
