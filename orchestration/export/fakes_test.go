package export

// Helpers of the tests of the hand-written scheduler examples beside the
// generated Airflow files (cron_test.go, systemd_test.go,
// kubernetes_test.go): each example's command runs against a fake parcours
// that exits with scripted codes, so what the scheduler does with 0, 1, 2,
// 75 and 99 is observed, not just read.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeParcours makes a folder holding a `parcours` that appends its
// arguments to <dir>/calls and exits with the n-th of codes on its n-th
// call, and a `sleep` that only records how long it was asked to wait.
func fakeParcours(t *testing.T, codes ...int) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range codes {
		lines = append(lines, strconv.Itoa(c))
	}
	files := map[string]string{
		filepath.Join(dir, "codes"): strings.Join(lines, "\n") + "\n",
		filepath.Join(bin, "parcours"): `#!/bin/sh
echo "$@" >> "` + dir + `/calls"
n=$(wc -l < "` + dir + `/calls")
echo '{"level":"info","message":"fake run"}' >&2
exit "$(sed -n "${n}p" "` + dir + `/codes")"
`,
		filepath.Join(bin, "sleep"): "#!/bin/sh\necho \"$@\" >> \"" + dir + "/sleeps\"\n",
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, bin
}

// readLines is a file's lines, none when it does not exist.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// shell runs script with the given shell and environment; it returns the
// exit code and what the script printed.
func shell(t *testing.T, sh, script string, env []string) (int, string) {
	t.Helper()
	bin, err := exec.LookPath(sh)
	if err != nil {
		t.Skipf("%s is not installed", sh)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", script)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", sh, err)
	}
	return code, string(out)
}

// yesterday in Europe/Paris, the zone every example runs in; two values
// when the test straddles midnight.
func yesterdays(t *testing.T) []string {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database")
	}
	now := time.Now().In(loc)
	return []string{now.AddDate(0, 0, -1).Format(time.DateOnly), now.Format(time.DateOnly)}
}
