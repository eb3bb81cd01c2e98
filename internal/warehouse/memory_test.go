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
		if got := mib(tc.files.defaultBytes()); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNightLimit(t *testing.T) {
	const gib = int64(1) << 30
	share := 9830 * int64(1) << 20 // 40% of 24 GiB
	for _, tc := range []struct {
		name         string
		input, share int64
		want         int64
	}{
		{"nothing to load: the floor", 0, share, 2 * gib},
		{"one day's folder at 1M customers (45 MB): floor plus 8x", 45 << 20, share, 2*gib + 360<<20},
		{"a year of extracts: the share", 16 * gib, share, share},
		{"where floor plus 8x reaches the share", (share - 2*gib) / 8, share, share},
		{"a small container: its share below the floor", 0, 819 << 20, 819 << 20},
		{"machine unknown: DuckDB's default", 1 << 20, 0, 0},
		{"negative input counts as none", -5, share, 2 * gib},
	} {
		if got := nightLimit(tc.input, tc.share); got != tc.want {
			t.Errorf("%s: %d MiB, want %d MiB", tc.name, got>>20, tc.want>>20)
		}
	}
}
