package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parcours/parcours/internal/config"
)

// yamlDocs decodes every document of a YAML stream.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

// dig follows keys (string for maps, int for lists) into decoded YAML.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesCronJob(t *testing.T) {
	docs := yamlDocs(t, "../kubernetes/cronjob.yaml")
	byKind := map[string]map[string]any{}
	for _, d := range docs {
		byKind[fmt.Sprint(d["kind"])] = d
	}
	cj, cm, pvc := byKind["CronJob"], byKind["ConfigMap"], byKind["PersistentVolumeClaim"]
	if cj == nil || cm == nil || pvc == nil {
		t.Fatalf("want a CronJob, a ConfigMap and a PersistentVolumeClaim, got kinds %v", keysOf(byKind))
	}
	job := dig(cj, "spec", "jobTemplate", "spec")
	pod := dig(job, "template", "spec")
	ctr := dig(pod, "containers", 0)
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"apiVersion", cj["apiVersion"], "batch/v1"},
		{"concurrencyPolicy", dig(cj, "spec", "concurrencyPolicy"), "Forbid"},
		{"restartPolicy (podFailurePolicy needs Never)", dig(pod, "restartPolicy"), "Never"},
		{"rule 1: disruptions", dig(job, "podFailurePolicy", "rules", 0, "action"), "Ignore"},
		{"rule 1 condition", dig(job, "podFailurePolicy", "rules", 0, "onPodConditions", 0, "type"), "DisruptionTarget"},
		// API servers before 1.34 reject onPodConditions without a status.
		{"rule 1 condition status", dig(job, "podFailurePolicy", "rules", 0, "onPodConditions", 0, "status"), "True"},
		{"rule 2: exit 75 counts", dig(job, "podFailurePolicy", "rules", 1, "action"), "Count"},
		{"rule 2 codes", dig(job, "podFailurePolicy", "rules", 1, "onExitCodes"), map[string]any{"containerName": "parcours", "operator": "In", "values": []any{75}}},
		{"rule 3: anything else fails the Job", dig(job, "podFailurePolicy", "rules", 2, "action"), "FailJob"},
		{"rule 3 codes", dig(job, "podFailurePolicy", "rules", 2, "onExitCodes"), map[string]any{"containerName": "parcours", "operator": "NotIn", "values": []any{0, 75}}},
		{"container name", dig(ctr, "name"), "parcours"},
		{"master key from a Secret", dig(ctr, "env", 1), map[string]any{"name": "PARCOURS_MASTER_KEY", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "parcours-keys", "key": "master-key"}}}},
		{"pepper from a Secret", dig(ctr, "env", 2, "valueFrom", "secretKeyRef", "key"), "pepper"},
		{"warehouse claim", dig(pod, "volumes", 0, "persistentVolumeClaim", "claimName"), dig(pvc, "metadata", "name")},
		{"config map", dig(pod, "volumes", 2, "configMap", "name"), dig(cm, "metadata", "name")},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
	for _, k := range []string{"startingDeadlineSeconds", "timeZone", "schedule"} {
		if dig(cj, "spec", k) == nil {
			t.Errorf("CronJob has no spec.%s", k)
		}
	}
	if n, _ := dig(job, "backoffLimit").(int); n < 1 {
		t.Errorf("backoffLimit %v: exit 75 needs retries", dig(job, "backoffLimit"))
	}
	// The 100,000-customer bench peaks at 3.9 GiB: request and limit above it.
	for _, k := range []string{"requests", "limits"} {
		mem := fmt.Sprint(dig(ctr, "resources", k, "memory"))
		gi, err := strconv.ParseFloat(strings.TrimSuffix(mem, "Gi"), 64)
		if !strings.HasSuffix(mem, "Gi") || err != nil || gi < 4 {
			t.Errorf("memory %s = %s, want at least 4Gi", k, mem)
		}
	}

	// The ConfigMap's parcours.yaml is a valid configuration for parcours.
	for _, k := range []string{"PARCOURS_CONFIG", "PARCOURS_WAREHOUSE", "PARCOURS_INPUT", "PARCOURS_EXPORT_DIR"} {
		t.Setenv(k, "")
	}
	cfgPath := writeTemp(t, "parcours.yaml", []byte(fmt.Sprint(dig(cm, "data", "parcours.yaml"))))
	cfg, err := config.Load(cfgPath)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("the ConfigMap's parcours.yaml: %v", err)
	}
	if cfg.Warehouse != "/var/lib/parcours/warehouse" || cfg.Input != "/data" {
		t.Errorf("config warehouse %s, input %s: want them on the mounted volumes", cfg.Warehouse, cfg.Input)
	}

	// The container's wrapper: 99 becomes success, 75 waits and stays 75.
	if got := dig(ctr, "command"); !reflect.DeepEqual(got, []any{"/bin/sh", "-c"}) {
		t.Fatalf("command = %v, want /bin/sh -c", got)
	}
	script := fmt.Sprint(dig(ctr, "args", 0))
	tests := []struct{ parcours, want, sleeps int }{{0, 0, 0}, {99, 0, 0}, {75, 75, 1}, {1, 1, 0}, {2, 2, 0}}
	for _, tt := range tests {
		dir, bin := fakeParcours(t, tt.parcours)
		code, _ := shell(t, "sh", strings.ReplaceAll(script, "/var/lib/parcours", dir), []string{"PATH=" + bin + ":/usr/bin:/bin"})
		if code != tt.want {
			t.Errorf("parcours exit %d: the pod exits %d, want %d", tt.parcours, code, tt.want)
		}
		if got := len(readLines(t, filepath.Join(dir, "sleeps"))); got != tt.sleeps {
			t.Errorf("parcours exit %d: slept %d times, want %d", tt.parcours, got, tt.sleeps)
		}
		if calls := readLines(t, filepath.Join(dir, "calls")); len(calls) != 1 || !strings.HasPrefix(calls[0], "run nightly --summary-json "+dir+"/summaries/") {
			t.Errorf("parcours ran with %q", calls)
		}
	}
}

// TestKubernetesForwardsSIGTERM: the wrapper shell is the pod's PID 1 and
// gets the SIGTERM of a pod deletion; parcours must get it too (it stops
// cleanly and exits 75), and the pod must exit with parcours' code.
func TestKubernetesForwardsSIGTERM(t *testing.T) {
	var cj map[string]any
	for _, d := range yamlDocs(t, "../kubernetes/cronjob.yaml") {
		if d["kind"] == "CronJob" {
			cj = d
		}
	}
	script := fmt.Sprint(dig(cj, "spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "args", 0))
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// A parcours that runs until it is told to stop, then exits 75 (as the
	// real one does on SIGTERM: temporary, the run resumes).
	fake := "#!/bin/sh\ntrap 'echo term >> " + dir + "/got; exit 75' TERM\necho started >> " + dir + "/got\n" +
		"while :; do /bin/sleep 0.05; done\n"
	if err := os.WriteFile(filepath.Join(bin, "parcours"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "sleep"), []byte("#!/bin/sh\necho \"$@\" >> \""+dir+"/sleeps\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-c", strings.ReplaceAll(script, "/var/lib/parcours", dir))
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(readLines(t, filepath.Join(dir, "got"))) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the wrapper did not stop on SIGTERM: parcours never got it")
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if got := readLines(t, filepath.Join(dir, "got")); len(got) != 2 || got[1] != "term" {
		t.Errorf("parcours saw %v, want started then term", got)
	}
	if code != 75 {
		t.Errorf("the pod exits %d, want parcours' 75", code)
	}
	// Stopped, not locked out: no 10-minute wait before the pod ends.
	if n := len(readLines(t, filepath.Join(dir, "sleeps"))); n != 0 {
		t.Errorf("slept %d times after SIGTERM, want none", n)
	}
}
