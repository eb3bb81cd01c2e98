package export

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unit is a parsed systemd unit file: section -> key -> values, in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func TestSystemdUnits(t *testing.T) {
	const dir = "../systemd"
	svc := parseUnit(t, filepath.Join(dir, "parcours-nightly.service"))
	timer := parseUnit(t, filepath.Join(dir, "parcours-nightly.timer"))
	want := []struct {
		u                   unit
		section, key, value string
	}{
		{svc, "Service", "Type", "exec"},
		{svc, "Service", "SuccessExitStatus", "99"},
		{svc, "Service", "Restart", "no"},
		{svc, "Service", "RestartForceExitStatus", "75"},
		{svc, "Service", "EnvironmentFile", "/etc/parcours/secrets.env"},
		{svc, "Unit", "StartLimitBurst", "4"},
		{timer, "Timer", "Persistent", "true"},
		{timer, "Timer", "Unit", "parcours-nightly.service"},
		{timer, "Install", "WantedBy", "timers.target"},
	}
	for _, w := range want {
		if got := w.u.get(w.section, w.key); got != w.value {
			t.Errorf("[%s] %s = %q, want %q", w.section, w.key, got, w.value)
		}
	}
	for _, k := range []string{"OnCalendar", "RandomizedDelaySec"} {
		if timer.get("Timer", k) == "" {
			t.Errorf("timer has no %s", k)
		}
	}
	if svc.get("Service", "RestartSec") == "" || svc.get("Unit", "StartLimitIntervalSec") == "" {
		t.Error("restarts after exit 75 need RestartSec and a StartLimitIntervalSec window")
	}
	// "At most 3 restarts" holds only if the starts fall in one start-limit
	// window: StartLimitBurst starts, RestartSec apart, inside the interval.
	restart, window := systemdSpan(t, svc.get("Service", "RestartSec")), systemdSpan(t, svc.get("Unit", "StartLimitIntervalSec"))
	burst, err := strconv.Atoi(svc.get("Unit", "StartLimitBurst"))
	if err != nil {
		t.Fatal(err)
	}
	if spread := time.Duration(burst-1) * restart; spread >= window {
		t.Errorf("%d starts %v apart span %v, not inside the %v start-limit window: the restart cap would not hold",
			burst, restart, spread, window)
	}

	// ExecStart after systemd's unescaping ($$ -> $, %% -> %) is a shell
	// command: run it against the fake parcours.
	exe := svc.get("Service", "ExecStart")
	prefix := "/bin/sh -c '"
	if !strings.HasPrefix(exe, prefix) || !strings.HasSuffix(exe, "'") {
		t.Fatalf("ExecStart = %s, want /bin/sh -c '...'", exe)
	}
	script := strings.NewReplacer("$$", "$", "%%", "%").Replace(exe[len(prefix) : len(exe)-1])
	if strings.Contains(script, "%") && !strings.Contains(script, "+%F") {
		t.Fatalf("a systemd specifier is left in ExecStart: %s", script)
	}
	tz := ""
	for _, e := range svc["Service"]["Environment"] {
		if v, ok := strings.CutPrefix(e, "TZ="); ok {
			tz = v
		}
	}
	if tz == "" {
		t.Fatal("the service sets no TZ: `date -d yesterday` would use the system's zone")
	}
	for _, rc := range []int{0, 75, 99, 1} {
		fdir, bin := fakeParcours(t, rc)
		s := strings.ReplaceAll(script, "/usr/local/bin/parcours", filepath.Join(bin, "parcours"))
		code, _ := shell(t, "sh", s, []string{"PATH=/usr/bin:/bin", "TZ=" + tz})
		if code != rc {
			t.Errorf("ExecStart exited %d for parcours' %d: the exit code must reach systemd", code, rc)
		}
		calls := readLines(t, filepath.Join(fdir, "calls"))
		ok := false
		for _, d := range yesterdays(t) {
			ok = ok || len(calls) == 1 && calls[0] == "run nightly --date "+d+" --warehouse /var/lib/parcours/warehouse --summary-json /var/log/parcours/summaries/"+d+".json"
		}
		if !ok {
			t.Errorf("ExecStart ran parcours with %q", calls)
		}
	}

	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: units checked by the parser only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "verify", "--man=no",
		filepath.Join(dir, "parcours-nightly.timer"), filepath.Join(dir, "parcours-nightly.service"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// systemdSpan reads a systemd time span such as "15min", "2h" or "90s".
func systemdSpan(t *testing.T, v string) time.Duration {
	t.Helper()
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"min", time.Minute}, {"h", time.Hour}, {"s", time.Second}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err == nil {
				return time.Duration(f * float64(u.unit))
			}
		}
	}
	t.Fatalf("time span %q: want a number with min, h or s", v)
	return 0
}
