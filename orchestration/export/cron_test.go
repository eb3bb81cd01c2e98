package export

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestCrontab(t *testing.T) {
	f, err := os.Open("../cron/parcours.crontab")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	envLine := regexp.MustCompile(`^([A-Z_]+)=(.*)$`)
	env := map[string]string{}
	var jobs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case envLine.MatchString(line):
			m := envLine.FindStringSubmatch(line)
			env[m[1]] = m[2]
		default:
			jobs = append(jobs, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("want one job line, got %d: %q", len(jobs), jobs)
	}
	fields := strings.Fields(jobs[0])
	limits := [][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	for i, lim := range limits {
		if fields[i] == "*" {
			continue
		}
		n, err := strconv.Atoi(fields[i])
		if err != nil || n < lim[0] || n > lim[1] {
			t.Errorf("schedule field %d is %q, want * or %d-%d", i+1, fields[i], lim[0], lim[1])
		}
	}
	command := strings.SplitN(jobs[0], " ", 6)[5]
	// cron turns an unescaped % into a newline: every % must be written \%.
	if regexp.MustCompile(`(^|[^\\])%`).MatchString(command) {
		t.Fatalf("unescaped %% in the command: %s", command)
	}
	for _, k := range []string{"SHELL", "PATH", "TZ", "MAILTO"} {
		if env[k] == "" {
			t.Errorf("crontab sets no %s", k)
		}
	}

	tests := []struct {
		name   string
		codes  []int
		calls  int
		sleeps int
		mail   string // what cron mails; "" for nothing
	}{
		{"success", []int{0}, 1, 0, ""},
		{"nothing to do", []int{99}, 1, 0, ""},
		{"job failed: no retry", []int{1, 0}, 1, 0, "exit 1 after 1 tries"},
		{"usage error: no retry", []int{2, 0}, 1, 0, "exit 2 after 1 tries"},
		{"locked, then free", []int{75, 75, 0}, 3, 2, ""},
		{"locked all night", []int{75, 75, 75, 75, 0}, 4, 3, "exit 75 after 4 tries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, bin := fakeParcours(t, tt.codes...)
			logDir := filepath.Join(dir, "log")
			script := strings.ReplaceAll(strings.ReplaceAll(command, `\%`, "%"), "/var/log/parcours", logDir)
			if err := os.MkdirAll(logDir, 0o755); err != nil {
				t.Fatal(err)
			}
			vars := []string{"PATH=" + bin + ":/usr/bin:/bin", "TZ=" + env["TZ"], "PARCOURS_CONFIG=" + env["PARCOURS_CONFIG"]}
			code, out := shell(t, env["SHELL"], script, vars)
			if code != 0 {
				t.Errorf("the cron command exited %d", code)
			}
			calls := readLines(t, filepath.Join(dir, "calls"))
			if len(calls) != tt.calls {
				t.Fatalf("parcours ran %d times, want %d: %q", len(calls), tt.calls, calls)
			}
			ok := false
			for _, d := range yesterdays(t) {
				want := "run nightly --date " + d + " --summary-json " + logDir + "/summaries/" + d + ".json"
				ok = ok || calls[0] == want
			}
			if !ok {
				t.Errorf("parcours ran with %q, want run nightly for yesterday", calls[0])
			}
			sleeps := readLines(t, filepath.Join(dir, "sleeps"))
			if len(sleeps) != tt.sleeps || (len(sleeps) > 0 && sleeps[0] != "900") {
				t.Errorf("slept %q, want %d waits of 900 s", sleeps, tt.sleeps)
			}
			if tt.mail == "" && out != "" || tt.mail != "" && !strings.Contains(out, tt.mail) {
				t.Errorf("printed (mailed) %q, want %q", out, tt.mail)
			}
			if logs := readLines(t, filepath.Join(logDir, "nightly.log")); len(logs) != tt.calls {
				t.Errorf("nightly.log has %d lines, want parcours' stderr of each of the %d runs appended", len(logs), tt.calls)
			}
		})
	}
}
