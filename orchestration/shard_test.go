package orchestration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/internal/warehouse/whtest"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/4", Shard{0, 4}, true},
		{"3/4", Shard{3, 4}, true},
		{"0/1", Shard{0, 1}, true},
		{"4/4", Shard{}, false},
		{"-1/4", Shard{}, false},
		{"1/0", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && ExitCode(err) != ExitUsage {
			t.Errorf("ParseShard(%q): exit %d, want %d", tt.in, ExitCode(err), ExitUsage)
		}
	}
}

// Go (ShardOf, used by the merge) and SQL (in_shard, used by every shard's
// queries) put every key in the same shard, and every key in exactly one.
func TestShardOfAgreesWithSQL(t *testing.T) {
	keys := []string{"00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff", "80000001aaaaaaaaaaaaaaaaaaaaaaaa"}
	for i := 0; i < 500; i++ {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		keys = append(keys, hex.EncodeToString(b))
	}
	const n = 4
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		wh := whtest.Open(t, nil, func(o *warehouse.Options) {
			o.Secrets, o.Role, o.ShardIndex, o.ShardCount = nil, fmt.Sprintf("%d/%d", i, n), i, n
		})
		for _, k := range keys {
			var mine bool
			if err := wh.DB.QueryRow("SELECT in_shard(?, NULL)", k).Scan(&mine); err != nil {
				t.Fatal(err)
			}
			if mine != (ShardOf(k, n) == i) {
				t.Errorf("key %s: SQL says shard %d is %v, Go says shard %d", k, i, mine, ShardOf(k, n))
			}
			// shard_of, with which the merged warehouse routes, agrees.
			var of int
			if err := wh.DB.QueryRow("SELECT shard_of(?, NULL, ?)", k, n).Scan(&of); err != nil {
				t.Fatal(err)
			}
			if of != ShardOf(k, n) {
				t.Errorf("key %s: shard_of says %d, Go says %d", k, of, ShardOf(k, n))
			}
			if mine {
				seen[k]++
			}
		}
		// Rows without a key go by route, to exactly one shard too.
		var routed int
		if err := wh.DB.QueryRow("SELECT count(*) FILTER (WHERE in_shard(NULL, 'pos:' || i)) FROM range(1000) r(i)").Scan(&routed); err != nil {
			t.Fatal(err)
		}
		if routed < 150 || routed > 350 {
			t.Errorf("shard %d takes %d of 1000 key-less rows, want about 250", i, routed)
		}
		var disagree int
		if err := wh.DB.QueryRow("SELECT count(*) FILTER (WHERE in_shard(NULL, 'pos:' || i) <> (shard_of(NULL, 'pos:' || i, ?) = ?)) FROM range(1000) r(i)", n, i).Scan(&disagree); err != nil {
			t.Fatal(err)
		}
		if disagree > 0 {
			t.Errorf("shard %d: in_shard and shard_of disagree on %d key-less rows", i, disagree)
		}
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("key %s is in %d shards", k, seen[k])
		}
	}
}

func TestShardJobs(t *testing.T) {
	onMerge := func(j *fakeJob, p Placement, stage string) *fakeJob {
		j.spec.Placement, j.spec.MergeStage = p, stage
		return j
	}
	all := []Job{
		job("ingest"),
		job("split", "ingest"),
		onMerge(job("cold", "split"), OnBoth, StagePublish),
		onMerge(job("kpis", "cold"), OnMerge, StagePublish),
		job("purge", "split", "cold", "kpis"), // the merge reads the snapshot taken before purge
		job("features", "purge"),
		onMerge(job("train", "features"), OnBoth, StageModels),
		job("score", "train", "features"),
		onMerge(job("segments", "score"), OnMerge, StagePublish),
		job("triggers", "segments"),
	}
	got, err := ShardJobs(all)
	if err != nil {
		t.Fatal(err)
	}
	needs := map[string][]string{}
	for _, j := range got {
		needs[j.Spec().Name] = j.Spec().Needs
	}
	want := map[string][]string{
		"ingest":        {},
		"split":         {"ingest"},
		"cold":          {"split"},
		"purge":         {"cold", "split"},
		"features":      {"purge"},
		"train":         {"features"},
		"score":         {"features", "merge_models", "train"},
		"triggers":      {"merge_publish"},
		"merge_models":  {"features", "train"},
		"merge_publish": {"cold", "score", "split"},
	}
	for name, w := range want {
		g, ok := needs[name]
		if !ok {
			t.Errorf("shard DAG has no job %s", name)
			continue
		}
		if len(g) == 0 && len(w) == 0 {
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s needs %v, want %v", name, g, w)
		}
	}
	for _, n := range []string{"kpis", "segments"} {
		if _, ok := needs[n]; ok {
			t.Errorf("merged-only job %s is in the shard DAG", n)
		}
	}
	if _, err := NewDAG(got, nil); err != nil {
		t.Errorf("shard DAG is invalid: %v", err)
	}
	bad := []Job{job("a"), onMerge(job("b", "a"), OnMerge, "")}
	if _, err := ShardJobs(bad); !errors.Is(err, ErrInvalidDAG) {
		t.Errorf("a merged job with no stage: %v, want ErrInvalidDAG", err)
	}
}

// A shard run stops at a merge gate with exit 0, its downstream jobs
// waiting; once the merge marks the gate done, the next run goes on.
func TestRunnerStopsAtMergeGate(t *testing.T) {
	wh, sqls := openTestWarehouse(t)
	calls := map[string]int{}
	mk := func(name string, needs ...string) Job {
		j := job(name, needs...)
		j.run = func(context.Context, *Env) (Counts, error) { calls[name]++; return Counts{}, nil }
		return j
	}
	all, err := ShardJobs([]Job{mk("a"), func() Job {
		j := job("m", "a")
		j.spec.Placement, j.spec.MergeStage = OnMerge, StageModels
		return j
	}(), mk("b", "m")})
	if err != nil {
		t.Fatal(err)
	}
	dag, err := NewDAG(all, sqls)
	if err != nil {
		t.Fatal(err)
	}
	ledger := NewLedger(wh.DB, sqls)
	r := &Runner{DAG: dag, Ledger: ledger, Log: zerolog.Nop()}
	env := Env{Date: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), Config: wh.Config, RunID: "r1", Shard: Shard{0, 2}}
	sum, err := r.Run(context.Background(), env, RunOptions{})
	if err != nil || sum.ExitCode != ExitOK || sum.Status != StatusWaiting {
		t.Fatalf("first pass: %v, exit %d, status %s; want exit 0, %s", err, sum.ExitCode, sum.Status, StatusWaiting)
	}
	if calls["a"] != 1 || calls["b"] != 0 {
		t.Fatalf("first pass ran %v, want a only", calls)
	}
	// What `parcours merge` does when its stage succeeded.
	if err := ledger.Start(context.Background(), "merge-1", GateName(StageModels), env.Date, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := ledger.Finish(context.Background(), "merge-1", GateName(StageModels), StatusSucceeded, time.Now(), Counts{}, nil); err != nil {
		t.Fatal(err)
	}
	env.RunID = "r2"
	sum, err = r.Run(context.Background(), env, RunOptions{})
	if err != nil || sum.Status != StatusSucceeded || calls["a"] != 1 || calls["b"] != 1 {
		t.Fatalf("second pass: %v, status %s, calls %v; want b run once, a skipped", err, sum.Status, calls)
	}
}
