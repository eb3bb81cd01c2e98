package warehouse

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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
func DefaultMemoryLimit() string { return linuxMemory.defaultLimit() }

func (f memoryFiles) defaultLimit() string {
	total := f.memTotal()
	for _, p := range f.cgroups {
		if n, ok := readLimit(p); ok && (total == 0 || n < total) {
			total = n
		}
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("%dMiB", int64(float64(total)*memoryShare)>>20)
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
