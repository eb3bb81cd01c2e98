package warehouse

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// 24 GiB machine = 25165824 kB.
	meminfo := write("meminfo", "MemTotal:       25165824 kB\nMemFree:         1000 kB\n")
	for _, tc := range []struct {
		name  string
		files memoryFiles
		want  string
	}{
		{"machine only: 40% of 24 GiB", memoryFiles{meminfo: meminfo}, "9830MiB"},
		{"cgroup v2 without a limit", memoryFiles{meminfo: meminfo, cgroups: []string{write("v2max", "max\n")}}, "9830MiB"},
		{"container limit of 6 GiB", memoryFiles{meminfo: meminfo, cgroups: []string{write("v2six", "6442450944\n")}}, "2457MiB"},
		{"cgroup v1 'no limit'", memoryFiles{meminfo: meminfo, cgroups: []string{write("v1", "9223372036854771712\n")}}, "9830MiB"},
		{"nothing readable: DuckDB's default", memoryFiles{meminfo: filepath.Join(dir, "none")}, ""},
		{"container limit, no meminfo", memoryFiles{meminfo: filepath.Join(dir, "none"), cgroups: []string{write("v2two", "2147483648")}}, "819MiB"},
	} {
		if got := tc.files.defaultLimit(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
