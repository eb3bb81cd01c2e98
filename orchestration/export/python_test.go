package export

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The Python scripts the tests run; they import nothing outside the
// standard library (Airflow is not installed where tests run).
const (
	graphScript     = "../airflow/testdata/dag_graph.py"
	behaviourScript = "../airflow/testdata/dag_behaviour.py"
)

// python runs python3 with args and returns its stdout. Without python3 on
// the PATH the test is skipped, saying so: the Python checks need it.
func python(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the generated Python cannot be checked here")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Bytecode goes to a temporary folder, never beside the committed files.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONPYCACHEPREFIX="+t.TempDir())
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// writeTemp writes b to a file of that name in a fresh directory.
func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pyCompile fails the test when path is not valid Python.
func pyCompile(t *testing.T, path string) {
	t.Helper()
	python(t, nil, "-m", "py_compile", path)
}

// Python reads back every literal pyString writes as the string it quoted.
func TestPyString(t *testing.T) {
	in := []string{
		"plain",
		"",
		`say "hi"`,
		`back\slash \n not a newline`,
		"line\nbreak\ttab",
		"l'apostrophe",
		"accents: é, ü, 日本",
		"controls: \x00\x07\x1b\x7f",
		"emoji 🙂 and {{ ds }}",
		"line separator \u2028 here",
		"bad utf-8 \xff",
	}
	var src bytes.Buffer
	src.WriteString("import json, sys\nvals = [\n")
	for _, s := range in {
		src.WriteString("    " + pyString(s) + ",\n")
	}
	src.WriteString("]\njson.dump(vals, sys.stdout)\n")
	var got []string
	if err := json.Unmarshal(python(t, src.Bytes(), "-"), &got); err != nil {
		t.Fatal(err)
	}
	want := append([]string(nil), in...)
	want[len(want)-1] = "bad utf-8 \ufffd" // invalid UTF-8 becomes the replacement character
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Python read back\n%q\nwant\n%q", got, want)
	}
}

func TestPyIdent(t *testing.T) {
	tests := []struct{ name, want string }{
		{"ingest", "ingest"},
		{"privacy_audit", "privacy_audit"},
		{"activate-plan", "activate_plan"},
		{"v1.2", "v1_2"},
		{"2fa", "_2fa"},
		{"range", "range_task"},   // would break range(SHARDS)
		{"class", "class_task"},   // keyword
		{"merge", "merge_task"},   // the sharded DAG's merge task
		{"dag", "dag_task"},       // the DAG itself
		{"SHARDS", "SHARDS_task"}, // a setting
		{"run_command", "run_command_task"},
		{"Ingest", "Ingest"},
	}
	for _, tt := range tests {
		if got := pyIdent(tt.name); got != tt.want {
			t.Errorf("pyIdent(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPodName(t *testing.T) {
	tests := []struct{ job, want string }{
		{"ingest", "parcours-ingest"},
		{"privacy_audit", "parcours-privacy-audit"},
		{"Activate.Plan", "parcours-activate-plan"},
		{"a__b-", "parcours-a-b"},
	}
	for _, tt := range tests {
		if got := podName(tt.job); got != tt.want {
			t.Errorf("podName(%q) = %q, want %q", tt.job, got, tt.want)
		}
	}
}
