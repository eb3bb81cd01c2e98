package warehouse

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"

	sqlfs "github.com/parcours/parcours/sql"
)

// memoryShare is the part of the machine's (or the container's) memory
// DuckDB gets when the config sets no memory_limit. DuckDB's own default,
// 80% of RAM, left the Go side (model training, activation payloads, the
// CLV fit) too little: the 1M-customer catch-up peaked at 23.2 GiB on a
// 24 GiB machine. DuckDB also uses memory outside its limit: with half of
// RAM (11.7 GiB) that catch-up's split peaked at 13.2 GiB, with 10 GB at
// 10.4 GiB and no slower. Past its limit DuckDB spills to <warehouse>/tmp.
const memoryShare = 0.4

// memoryFiles are where the machine's memory and the container's limit
// are read (Linux; cgroup v2, then v1).
type memoryFiles struct {
	meminfo string
	cgroups []string
}

var linuxMemory = memoryFiles{meminfo: "/proc/meminfo",
	cgroups: []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}}

// DefaultMemoryLimit is the memory_limit parcours gives DuckDB when the
// config sets none: memoryShare of the smaller of the machine's memory and
// the container's limit, in MiB ("" when neither can be read: DuckDB's
// own default then applies).
func DefaultMemoryLimit() string { return mib(linuxMemory.defaultBytes()) }

// A night that loads one day's folder on top of a year of history needs
// little of that share: its jobs stream the hot tables and hash per
// customer, and a larger limit only fills DuckDB's cache. Measured at 1M
// customers (2 cores, seed 7, one process): the steady night ran in 77 s
// and peaked at 3.4 GiB with a 2 GB limit, in 74 s and 4.3 GiB with 3 GB,
// in 77-78 s and 7.3 GiB with the share (9.3 GiB). The first night of a
// year of extracts needs the share. So a night's limit grows with the
// bytes it loads: nightFloor plus nightFactor times them, at most the share.
const (
	nightFloor  = 2 << 30
	nightFactor = 8
)

// NightMemoryLimit is the memory_limit of a night that loads input bytes
// when the config sets none: nightFloor plus nightFactor times input, at
// most DefaultMemoryLimit ("" when the machine's memory cannot be read).
func NightMemoryLimit(input int64) string {
	return mib(nightLimit(input, linuxMemory.defaultBytes()))
}

// nightLimit is NightMemoryLimit in bytes, given the share (0: unknown).
func nightLimit(input, share int64) int64 {
	if share <= 0 {
		return 0
	}
	if input < 0 {
		input = 0
	}
	if input >= (share-nightFloor)/nightFactor {
		return share
	}
	return min(share, nightFloor+input*nightFactor)
}

// mib renders bytes as DuckDB reads a size, "" for 0.
func mib(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%dMiB", n>>20)
}

// SetMemoryLimit changes DuckDB's memory limit (a size such as "2048MiB")
// for the rest of the process, every connection included.
func (w *Warehouse) SetMemoryLimit(ctx context.Context, limit string) error {
	if _, err := w.Exec(ctx, sqlfs.Ref{File: "_engine.sql", Section: "memory_limit"}, sql.Named("limit", limit)); err != nil {
		return fmt.Errorf("set DuckDB memory limit %s: %w", limit, err)
	}
	w.memoryLimit = limit
	return nil
}

// releaseFloor is the memory limit ReleaseMemory lowers DuckDB to.
const releaseFloor = "256MiB"

// ReleaseMemory makes DuckDB give back the memory it holds and no query
// needs: it lowers the limit, so DuckDB evicts its cached blocks and
// writes temp tables out to <warehouse>/tmp, then restores it. DuckDB
// never evicts on its own below its limit, so a job that builds a large
// structure in Go (identity's graph, the vault's sealed subjects) calls it
// first, or that structure stacks on the cache of the jobs before: the 1M
// catch-up, one process, peaked at 13.6 GiB in identity's stitch with
// 9.4 GiB for DuckDB, and at 10.1 GiB with the release. Not between every
// job: on the 1M steady night that cost 4 s and lowered no peak. Lowering
// is best effort (memory a running query pins stays); restoring must
// succeed.
func (w *Warehouse) ReleaseMemory(ctx context.Context) error {
	if w.memoryLimit == "" || w.ReadOnly {
		return nil
	}
	_, _ = w.Exec(ctx, sqlfs.Ref{File: "_engine.sql", Section: "memory_limit"}, sql.Named("limit", releaseFloor))
	return w.SetMemoryLimit(ctx, w.memoryLimit)
}

// defaultBytes is memoryShare of the smaller of the machine's memory and
// the container's limit, 0 when neither can be read.
func (f memoryFiles) defaultBytes() int64 {
	total := f.memTotal()
	for _, p := range f.cgroups {
		if n, ok := readLimit(p); ok && (total == 0 || n < total) {
			total = n
		}
	}
	return int64(float64(total) * memoryShare)
}

// memTotal is MemTotal of /proc/meminfo in bytes, 0 when unreadable.
func (f memoryFiles) memTotal() int64 {
	file, err := os.Open(f.meminfo)
	if err != nil {
		return 0
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// readLimit reads a cgroup memory limit in bytes; "max" (v2) and the v1
// "no limit" (a huge number) are no limit.
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0, false
	}
	return n, true
}
