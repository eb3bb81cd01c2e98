package orchestration

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	sqlfs "github.com/parcours/parcours/sql"
)

// fakeJob is a job whose behaviour a test scripts.
type fakeJob struct {
	spec Spec
	run  func(ctx context.Context, env *Env) (Counts, error)
}

func (f *fakeJob) Spec() Spec { return f.spec }
func (f *fakeJob) Run(ctx context.Context, env *Env) (Counts, error) {
	if f.run == nil {
		return Counts{In: 1, Out: 1}, nil
	}
	return f.run(ctx, env)
}

func job(name string, needs ...string) *fakeJob {
	return &fakeJob{spec: Spec{Name: name, Needs: needs}}
}

func TestNewDAG(t *testing.T) {
	sqls, err := sqlfs.Parse(fstest.MapFS{"a.sql": {Data: []byte("-- name: build\nselect 1")}})
	if err != nil {
		t.Fatal(err)
	}
	withSQL := job("b", "a")
	withSQL.spec.SQL = sqlfs.Refs("a.sql", "build")
	missingSQL := job("b", "a")
	missingSQL.spec.SQL = sqlfs.Refs("nope.sql", "build", "count")
	missingSection := job("b", "a")
	missingSection.spec.SQL = sqlfs.Refs("a.sql", "build", "biuld")
	tests := []struct {
		name    string
		jobs    []Job
		order   []string
		wantErr string
	}{
		{name: "chain in registration order", jobs: []Job{job("a"), job("b", "a"), job("c", "b")}, order: []string{"a", "b", "c"}},
		{name: "needs reorder registration", jobs: []Job{job("c", "b"), job("b", "a"), job("a")}, order: []string{"a", "b", "c"}},
		{name: "independent branches keep registration order", jobs: []Job{job("a"), job("x"), job("b", "a"), job("y", "x")}, order: []string{"a", "x", "b", "y"}},
		{name: "sql present", jobs: []Job{job("a"), withSQL}, order: []string{"a", "b"}},
		{name: "unknown need", jobs: []Job{job("a", "ghost")}, wantErr: `job "a" needs unknown job "ghost"`},
		{name: "cycle", jobs: []Job{job("a", "c"), job("b", "a"), job("c", "b")}, wantErr: "jobs form a cycle: "},
		{name: "self cycle", jobs: []Job{job("a", "a")}, wantErr: "jobs form a cycle: a -> a"},
		{name: "duplicate", jobs: []Job{job("a"), job("a")}, wantErr: `job "a" is registered twice`},
		{name: "missing sql file", jobs: []Job{job("a"), missingSQL}, wantErr: `job "b" runs sql/nope.sql, which does not exist`},
		{name: "misspelt section", jobs: []Job{job("a"), missingSection}, wantErr: `job "b" runs sql/a.sql section "biuld", which does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDAG(tt.jobs, sqls)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidDAG) || ExitCode(err) != ExitUsage {
					t.Fatalf("a DAG error must be ErrInvalidDAG and exit 2, got exit %d", ExitCode(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Order(); !reflect.DeepEqual(got, tt.order) {
				t.Fatalf("order = %v, want %v", got, tt.order)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	d, err := NewDAG([]Job{job("a"), job("b", "a"), job("c", "b"), job("x")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		targets  []string
		upstream bool
		want     []string
	}{
		{nil, false, []string{"a", "b", "c", "x"}},
		{[]string{"nightly"}, false, []string{"a", "b", "c", "x"}},
		{[]string{"c"}, false, []string{"c"}},
		{[]string{"c"}, true, []string{"a", "b", "c"}},
		{[]string{"x", "b"}, false, []string{"b", "x"}},
	}
	for _, tt := range tests {
		got, err := d.Select(tt.targets, tt.upstream)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Select(%v, %v) = %v, want %v", tt.targets, tt.upstream, got, tt.want)
		}
	}
	if _, err := d.Select([]string{"nope"}, false); ExitCode(err) != ExitUsage {
		t.Fatalf("unknown job: exit %d, want 2", ExitCode(err))
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitJobFailed},
		{Usage("bad flag"), ExitUsage},
		{Temporary(errors.New("503"), 0), ExitTemporary},
		{wrapErr(Temporary(errors.New("503"), 0)), ExitTemporary},
		{wrapErr(ErrNothingToDo), ExitNothingToDo},
		{context.DeadlineExceeded, ExitTemporary},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func wrapErr(err error) error { return errors.Join(errors.New("job x"), err) }
