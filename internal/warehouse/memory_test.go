package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/parcours/parcours/internal/config"
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

func TestReleaseMemoryEvictsAndRestores(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Warehouse = t.TempDir()
	cfg.DuckDB.MemoryLimit = "1GiB"
	wh := open(t, &cfg, nil)
	conn, err := wh.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	scan := func(q string, dst any) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, q).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	setting := func() (v string) { scan("SELECT current_setting('memory_limit')", &v); return v }
	held := func() (n int64) {
		scan("SELECT CAST(sum(memory_usage_bytes) AS BIGINT) FROM duckdb_memory()", &n)
		return n
	}
	// A temp table of about 600 MB stays in DuckDB's memory: under the limit
	// nothing evicts it.
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE big AS SELECT range AS i, repeat('x', 90) || range AS s FROM range(6000000)"); err != nil {
		t.Fatal(err)
	}
	before, limit := held(), setting()
	if before < 500<<20 {
		t.Fatalf("DuckDB holds %d MiB before the release, want the temp table's 500+", before>>20)
	}
	if err := wh.ReleaseMemory(ctx); err != nil {
		t.Fatal(err)
	}
	if after := held(); after > 300<<20 {
		t.Errorf("DuckDB holds %d MiB after the release, %d before: want it down to about the 256 MiB floor", after>>20, before>>20)
	}
	if got := setting(); got != limit {
		t.Errorf("memory limit %s after the release, want %s restored", got, limit)
	}
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM big").Scan(&n); err != nil || n != 6000000 {
		t.Errorf("the evicted temp table reads back %d rows (%v), want 6000000", n, err)
	}
	// A night-sized limit set later is the one restored.
	if err := wh.SetMemoryLimit(ctx, "768MiB"); err != nil {
		t.Fatal(err)
	}
	if err := wh.ReleaseMemory(ctx); err != nil {
		t.Fatal(err)
	}
	if got := setting(); got != "768.0 MiB" {
		t.Errorf("memory limit %s after SetMemoryLimit and a release, want 768.0 MiB", got)
	}
}
