package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/orchestration"
)

// runDag runs the CLI in process. Until main.go registers `dag`, it adds the
// command to the root the way rootCommand adds the others; once registered,
// it goes through execute, exit codes and all.
func runDag(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("PARCOURS_CONFIG", "")
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	root := a.rootCommand()
	if hasCommand(root, "dag") {
		code = execute(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	dag := a.dagCommand()
	wrapArgs(dag)
	root.AddCommand(dag)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		fmt.Fprintf(&errb, "parcours: %v\n", err)
	}
	return orchestration.ExitCode(err), out.String(), errb.String()
}

func hasCommand(root *cobra.Command, name string) bool {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return true
		}
	}
	return false
}

// `parcours dag export` writes the committed scheduler files byte for byte:
// the defaults of each flag are the ones the files were made with.
func TestDagExport(t *testing.T) {
	tests := []struct {
		args []string
		file string
	}{
		{[]string{"dag", "export"}, "../../orchestration/airflow/parcours_nightly.py"},
		{[]string{"dag", "export", "--format", "airflow", "--operator", "bash"}, "../../orchestration/airflow/parcours_nightly.py"},
		{[]string{"dag", "export", "--operator", "kubernetes"}, "../../orchestration/airflow/parcours_nightly_k8s.py"},
		{[]string{"dag", "export", "--shards", "4"}, "../../orchestration/airflow/parcours_nightly_sharded.py"},
		{[]string{"dag", "export", "--format", "dot"}, "../../orchestration/dag.dot"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			want, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := runDag(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if out != string(want) {
				t.Errorf("stdout differs from %s (regenerate it: PARCOURS_UPDATE_GOLDEN=1 go test -tags duckdb_arrow ./orchestration/export/)", tt.file)
			}
		})
	}
}

func TestDagExportOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parcours_nightly.py")
	if err := os.WriteFile(path, []byte("an older export"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runDag(t, "dag", "export", "--operator", "kubernetes", "--out", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, errs)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../orchestration/airflow/parcours_nightly_k8s.py")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("--out wrote something else than the committed export")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (err %v), want 0644: schedulers read DAG files as another user", fi.Mode().Perm(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only the export (no temporary left)", len(entries))
	}
	if code, _, _ := runDag(t, "dag", "export", "--out", filepath.Join(dir, "missing", "x.py")); code != orchestration.ExitJobFailed {
		t.Errorf("writing into a missing folder: exit %d, want %d", code, orchestration.ExitJobFailed)
	}
}

func TestDagExportUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"dag", "export", "--format", "yaml"}, `--format "yaml": want airflow or dot`},
		{[]string{"dag", "export", "--operator", "docker"}, `--operator "docker": want bash or kubernetes`},
		{[]string{"dag", "export", "--shards", "-2"}, "--shards -2"},
		{[]string{"dag", "export", "--shards", "four"}, "invalid argument"},
		{[]string{"dag", "export", "--format", "dot", "--operator", "kubernetes"}, "apply to --format airflow only"},
		{[]string{"dag", "export", "--format", "dot", "--shards", "2"}, "apply to --format airflow only"},
		{[]string{"dag", "export", "extra"}, "unknown command"},
		{[]string{"dag", "export", "--nope"}, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runDag(t, tt.args...)
			if code != orchestration.ExitUsage {
				t.Fatalf("exit %d, want %d (usage); stderr %s", code, orchestration.ExitUsage, errs)
			}
			if !strings.Contains(errs, tt.want) || out != "" {
				t.Errorf("stderr %q, stdout %q: want the message %q on stderr only", errs, out, tt.want)
			}
		})
	}
}
