// Command parcours-bench is `make bench`: it generates a reproducible data
// set (seeded, cached), runs the nightly jobs through the parcours binary
// as child processes, and prints wall time, rows/s and peak RSS per job,
// plus the physical limit for ingest: per source, one typed glob read of
// its files with the dedup on its key (limitRead).
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/config"
	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

type options struct {
	bin, dir        string
	customers, days int
	seed            int
	jobs            string
	modelRows       int
	shards          int
	readsOf         string // internal: the in-process reads of this warehouse, as JSON
	shardsOnly      bool
	shardMemory     string
	steady          int
	history         int
	historyOf       string // internal: give this warehouse its history, see childHistory
	historyDate     string
}

// measured is one timed step.
type measured struct {
	name    string
	wall    time.Duration
	rows    int64
	peakRSS int64 // bytes
	note    string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/parcours", "parcours binary")
	flag.StringVar(&o.dir, "dir", ".bench", "working folder (data cached here)")
	flag.IntVar(&o.customers, "customers", 100000, "customers to generate")
	flag.IntVar(&o.days, "days", 365, "days to generate")
	flag.IntVar(&o.seed, "seed", 7, "generator seed")
	flag.IntVar(&o.modelRows, "model-rows", 200000, "train churn on at least this many customer-cutoffs of features (0: skip)")
	flag.StringVar(&o.jobs, "jobs", "", "jobs to time, in DAG order (default: every job of the nightly DAG)")
	flag.IntVar(&o.shards, "shards", 0, "then run the same night as this many customer shards, one after another, and their merge (0: skip)")
	flag.StringVar(&o.readsOf, "reads-of", "", "internal: time the vault read of this warehouse and the ingest limit, and print them as JSON")
	flag.BoolVar(&o.shardsOnly, "shards-only", false, "run only the shard part (with --shards), keeping an earlier run's single-node figures")
	flag.StringVar(&o.shardMemory, "shard-memory-limit", "", "run the shards' passes with this duckdb.memory_limit (e.g. 4GB: a smaller machine per shard); the merges keep the default")
	flag.IntVar(&o.steady, "steady", 2, "after the catch-up (every folder but the last n), run the last n nights one folder at a time (0: one catch-up of every folder)")
	flag.IntVar(&o.history, "history", 14, "before the steady nights, give the warehouse this many nights of per-customer derived history, as one that has run that long keeps (privacy.history_days; 0 or 1: the catch-up's night alone)")
	flag.StringVar(&o.historyOf, "history-of", "", "internal: give this warehouse --history nights of derived history up to --history-date")
	flag.StringVar(&o.historyDate, "history-date", "", "internal: see --history-of")
	flag.Parse()
	if o.historyOf != "" {
		if _, err := makeHistory(context.Background(), o.historyOf, o.historyDate, o.history); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if o.readsOf != "" {
		r, err := reads(context.Background(), o.readsOf, o.dataDir(), o.dir)
		if err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	// A long bench runs its own copy of the binary, so a rebuild meanwhile
	// does not change what it measures.
	bin, err := copyBinary(o.bin, o.dir)
	if err != nil {
		return err
	}
	o.bin = bin
	data := o.dataDir()
	wh := filepath.Join(o.dir, "warehouse")
	var steps []measured
	if _, err := os.Stat(filepath.Join(data, "manifest.json")); err != nil {
		fmt.Printf("generating %d customers x %d days (seed %d) into %s\n", o.customers, o.days, o.seed, data)
		m, _, err := child(ctx, o.bin, "fixtures", "generate", "--customers", fmt.Sprint(o.customers),
			"--days", fmt.Sprint(o.days), "--seed", fmt.Sprint(o.seed), "--out", data)
		if err != nil {
			return err
		}
		m.name = "fixtures generate"
		steps = append(steps, m)
	}
	last, err := lastDate(data)
	if err != nil {
		return err
	}
	if o.shardsOnly {
		return shardsOnly(ctx, o, data, last, wh)
	}
	if err := os.RemoveAll(wh); err != nil {
		return err
	}
	var sources []sourceTiming
	if o.jobs == "" {
		if o.jobs, err = dagJobs(ctx, o.bin); err != nil {
			return err
		}
	}
	dates, err := datedFolders(data)
	if err != nil {
		return err
	}
	catchUp, steadyDates := catchUpDate(dates, o.steady)
	for _, job := range strings.Split(o.jobs, ",") {
		m, stderr, err := child(ctx, o.bin, "run", job, "--date", catchUp, "--input", data, "--warehouse", wh,
			"--log-format", "json", "--json")
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", job, err, tail(stderr, 20))
		}
		m.name = job
		m.rows, m.note = jobRows(stderr, job)
		steps = append(steps, m)
		progress(m)
		if job == "ingest" {
			sources = sourceTimings(stderr)
		}
	}
	if len(steadyDates) > 0 && o.history > 1 {
		m, err := childHistory(ctx, o, wh, catchUp)
		if err != nil {
			return err
		}
		steps = append(steps, m)
		progress(m)
	}
	nights, err := runSteady(ctx, o, data, wh, steadyDates)
	if err != nil {
		return err
	}
	if o.modelRows > 0 {
		if err := modelBench(ctx, o.bin, wh, o.dir, last, o.modelRows); err != nil {
			return err
		}
	}
	// The reads load DuckDB in a child: in this process they would raise
	// the RSS peak every later child reports (exec inherits the parent's
	// high-water mark through vfork).
	r, err := childReads(ctx, o, wh)
	if err != nil {
		return err
	}
	vaultRead := readTiming{values: r.VaultValues, seconds: r.VaultSeconds}
	limit := measured{name: r.LimitName, wall: time.Duration(r.LimitSeconds * float64(time.Second)), rows: r.LimitRows, note: r.LimitNote}
	steps = append(steps, limit)
	progress(limit)
	var sharded shardRun
	if o.shards > 0 {
		// The merged warehouse holds the whole landing: free the disk the
		// single node and the limit's read used (at 1M, tens of GB).
		need, err := freeSingle(o, wh)
		if err != nil {
			return err
		}
		if free := freeBytes(o.dir); free > 0 && free < need {
			fmt.Fprintf(os.Stderr, "bench: the route stage needs about %.1f GB of disk in %s, %.1f GB free: shard bench skipped\n",
				float64(need)/1e9, o.dir, float64(free)/1e9)
		} else if sharded, err = shardBench(ctx, o, data, last, need); err != nil {
			return err
		}
	}

	fmt.Printf("\nparcours bench: %d customers x %d days, seed %d, %s\n\n", o.customers, o.days, o.seed, data)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\twall s\trows\trows/s\tpeak RSS MiB\tnote\t")
	for _, s := range steps {
		rate := "-"
		if s.rows > 0 {
			rate = fmt.Sprintf("%.0f", float64(s.rows)/s.wall.Seconds())
		}
		rss := "-"
		if s.peakRSS > 0 {
			rss = fmt.Sprintf("%.0f", float64(s.peakRSS)/(1<<20))
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%d\t%s\t%s\t%s\t\n", s.name, s.wall.Seconds(), s.rows, rate, rss, s.note)
	}
	tw.Flush()
	printSteady(steps, nights)
	if len(sharded.steps) > 0 {
		sharded.print(o.shards)
	}
	var total, privacy float64
	for _, s := range steps {
		switch s.name {
		case "fixtures generate", limitName:
			continue
		case "split", "cold", "purge", "privacy_audit", "export":
			privacy += s.wall.Seconds()
		}
		total += s.wall.Seconds()
		if s.name == "vault" && s.rows > 0 {
			fmt.Printf("\nvault write: %d subjects x %d fields sealed in the vault job (%.2f s, including its SQL): %.0f values/s\n",
				s.rows, vaultFields, s.wall.Seconds(), float64(s.rows*vaultFields)/s.wall.Seconds())
		}
	}
	if vaultRead.values > 0 {
		fmt.Printf("vault read: %d values decrypted in %.2f s: %.0f values/s\n", vaultRead.values, vaultRead.seconds, float64(vaultRead.values)/vaultRead.seconds)
	}
	if total > 0 && privacy > 0 {
		fmt.Printf("hot/cold split, cold publication, purge, privacy audit and export: %.2f s of the %.2f s nightly run (%.1f%%)\n",
			privacy, total, 100*privacy/total)
	}
	if len(sources) > 0 {
		jobWall := 0.0
		for _, s := range steps {
			if s.name == "ingest" {
				jobWall = s.wall.Seconds()
			}
		}
		printLimit(sources, r.PerSource, r.PerSourceRows, jobWall)
	}
	return nil
}

// freeSingle deletes the single-node warehouse and the limit's file,
// which the shards do not need (at 1M, tens of GB), and returns the disk
// the merged warehouse's route stage needs: it loads the whole landing, as
// the single node did (about 0.85 of its warehouse, measured at 100k and
// 1M; the shards then hold their slices, a fraction of it). Without a
// single-node warehouse it returns 0 (no estimate).
func freeSingle(o options, wh string) (int64, error) {
	size := dirSize(wh)
	for _, p := range []string{wh, filepath.Join(o.dir, "limit.duckdb")} {
		if err := os.RemoveAll(p); err != nil {
			return 0, err
		}
	}
	return int64(float64(size) * 0.85), nil
}

// shardsOnly is the bench with --shards-only: the shard part alone, for
// when the single-node figures of the same data are already known.
func shardsOnly(ctx context.Context, o options, data, last, wh string) error {
	if o.shards < 1 {
		return fmt.Errorf("--shards-only needs --shards N")
	}
	need, err := freeSingle(o, wh)
	if err != nil {
		return err
	}
	r, err := shardBench(ctx, o, data, last, need)
	if err != nil {
		return err
	}
	fmt.Printf("\nparcours bench: %d customers x %d days, seed %d, %s\n", o.customers, o.days, o.seed, data)
	r.print(o.shards)
	return nil
}

// shardRun is what shardBench measured: each step (a shard's pass or a
// merge), and each job's time summed over the shards and on the slowest.
type shardRun struct {
	steps []measured
	jobs  []string // in the order first run
	sum   map[string]float64
	max   map[string]float64
	// parallel is the night on one machine per shard: the slowest shard of
	// each pass plus the merges.
	parallel float64
	// shardWall and shardPeak are each shard's passes: summed wall time,
	// highest peak RSS (bytes).
	shardWall []float64
	shardPeak []int64
}

// shardBench runs the night as o.shards shards, one after another (as on
// one machine; on n machines the shard steps of a pass run side by side):
// the merged warehouse's route stage first (the whole input loaded and
// stitched once), then the three passes with the two merges between them:
// wall time and peak RSS of each, and of each shard's passes together.
func shardBench(ctx context.Context, o options, data, last string, need int64) (shardRun, error) {
	r := shardRun{sum: map[string]float64{}, max: map[string]float64{}}
	// Shards and merge share one pepper and master key.
	for _, v := range []string{keys.EnvPepper, keys.EnvMasterKey} {
		os.Setenv(v, base64.StdEncoding.EncodeToString(keys.Random(32)))
		defer os.Unsetenv(v) // the single-node warehouse has its own key file
	}
	root := filepath.Join(o.dir, "shards")
	if err := os.RemoveAll(root); err != nil {
		return r, err
	}
	var dirs []string
	for i := 0; i < o.shards; i++ {
		dirs = append(dirs, filepath.Join(root, fmt.Sprint(i)))
	}
	merged := filepath.Join(root, "merged")
	step := func(name string, args ...string) (measured, error) {
		args = append(args, "--date", last, "--input", data, "--log-format", "json", "--json")
		m, stderr, err := child(ctx, o.bin, args...)
		if err != nil {
			return m, fmt.Errorf("%s: %w\n%s", name, err, tail(stderr, 20))
		}
		m.name = name
		r.steps = append(r.steps, m)
		progress(m)
		for _, j := range jobDurations(stderr) {
			if args[0] == "merge" {
				j.job = "merge: " + j.job
			}
			if _, seen := r.sum[j.job]; !seen {
				r.jobs = append(r.jobs, j.job)
			}
			r.sum[j.job] += j.seconds
			r.max[j.job] = max(r.max[j.job], j.seconds)
		}
		return m, nil
	}
	r.shardWall, r.shardPeak = make([]float64, o.shards), make([]int64, o.shards)
	var shardConfig []string
	if o.shardMemory != "" {
		cfg := filepath.Join(root, "shard-config.yaml")
		if err := os.MkdirAll(root, 0o755); err != nil {
			return r, err
		}
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("duckdb:\n  memory_limit: %q\n", o.shardMemory)), 0o644); err != nil {
			return r, err
		}
		shardConfig = []string{"--config", cfg}
	}
	pass := func(p int) error {
		var slowest float64
		for i, d := range dirs {
			m, err := step(fmt.Sprintf("pass %d shard %d/%d", p, i, o.shards), append(shardConfig, "run", "nightly", "--warehouse", d,
				"--shard", fmt.Sprintf("%d/%d", i, o.shards), "--merged", merged)...)
			if err != nil {
				return err
			}
			slowest = max(slowest, m.wall.Seconds())
			r.shardWall[i] += m.wall.Seconds()
			r.shardPeak[i] = max(r.shardPeak[i], m.peakRSS)
		}
		r.parallel += slowest
		return nil
	}
	merge := func(stage string) error {
		m, err := step("merge --stage "+stage, "merge", "--stage", stage, "--warehouse", merged, "--shards", strings.Join(dirs, ","))
		r.parallel += m.wall.Seconds()
		return err
	}
	if free := freeBytes(o.dir); free > 0 && free < need {
		return r, fmt.Errorf("the merged warehouse's route stage needs about %.1f GB of disk in %s, %.1f GB free", float64(need)/1e9, o.dir, float64(free)/1e9)
	}
	for _, s := range []func() error{
		func() error { return merge("route") },
		func() error { return pass(1) },
		func() error { return merge("models") },
		func() error { return pass(2) },
		func() error { return merge("publish") },
		func() error { return pass(3) },
	} {
		if err := s(); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (r shardRun) print(n int) {
	fmt.Printf("\nthe same night as %d shards run one after another, and their merge:\n\n", n)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\twall s\tpeak RSS MiB\t")
	var tot float64
	for _, s := range r.steps {
		tot += s.wall.Seconds()
		fmt.Fprintf(tw, "%s\t%.2f\t%.0f\t\n", s.name, s.wall.Seconds(), float64(s.peakRSS)/(1<<20))
	}
	fmt.Fprintf(tw, "total, one machine\t%.2f\t\t\n", tot)
	fmt.Fprintf(tw, "total, one machine per shard\t%.2f\t\t\n", r.parallel)
	for i := range r.shardWall {
		fmt.Fprintf(tw, "shard %d/%d, its three passes\t%.2f\t%.0f\t\n", i, n, r.shardWall[i], float64(r.shardPeak[i])/(1<<20))
	}
	tw.Flush()
	fmt.Println("\nper job, over the shards' runs (merge: the merge's own jobs):")
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "job\tsum s\tslowest run s\t")
	for _, j := range r.jobs {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t\n", j, r.sum[j], r.max[j])
	}
	tw.Flush()
}

// progress prints a step as soon as it ends, so a long bench that fails
// late keeps what it measured.
func progress(m measured) {
	fmt.Fprintf(os.Stderr, "bench: %s: %.2f s, peak RSS %.0f MiB\n", m.name, m.wall.Seconds(), float64(m.peakRSS)/(1<<20))
}

type jobDuration struct {
	job     string
	seconds float64
}

// jobDurations reads each job's duration from the run summary printed with
// --json; jobs that did not run this pass (skipped, waiting) are left out.
func jobDurations(out []byte) []jobDuration {
	var sum struct {
		Jobs []struct {
			Job       string  `json:"job"`
			Status    string  `json:"status"`
			DurationS float64 `json:"duration_s"`
		} `json:"jobs"`
	}
	decodeSummary(out, &sum)
	var d []jobDuration
	for _, j := range sum.Jobs {
		if j.Status == "succeeded" {
			d = append(d, jobDuration{j.Job, j.DurationS})
		}
	}
	return d
}

func (o options) dataDir() string {
	return filepath.Join(o.dir, fmt.Sprintf("data-%dx%d-s%d", o.customers, o.days, o.seed))
}

// readsResult is what the reads child measured.
type readsResult struct {
	VaultValues   int64
	VaultSeconds  float64
	LimitName     string
	LimitSeconds  float64
	LimitRows     int64
	LimitNote     string
	PerSource     map[string]float64 // the limit's seconds per source
	PerSourceRows map[string]int64   // the limit's rows per source
}

func reads(ctx context.Context, wh, data, dir string) (readsResult, error) {
	v, err := timeVaultRead(ctx, wh)
	if err != nil {
		return readsResult{}, err
	}
	limit, perSource, perRows, err := limitRead(ctx, data, filepath.Join(dir, "limit.duckdb"))
	if err != nil {
		return readsResult{}, err
	}
	return readsResult{VaultValues: v.values, VaultSeconds: v.seconds, LimitName: limit.name, LimitSeconds: limit.wall.Seconds(),
		LimitRows: limit.rows, LimitNote: limit.note, PerSource: perSource, PerSourceRows: perRows}, nil
}

// childReads runs reads in a child of this bench binary.
func childReads(ctx context.Context, o options, wh string) (readsResult, error) {
	self, err := os.Executable()
	if err != nil {
		return readsResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "--reads-of", wh, "--dir", o.dir, "--customers", fmt.Sprint(o.customers),
		"--days", fmt.Sprint(o.days), "--seed", fmt.Sprint(o.seed))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return readsResult{}, fmt.Errorf("vault read and ingest limit: %w", err)
	}
	var r readsResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("vault read and ingest limit: %w", err)
	}
	return r, nil
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// freeBytes is the space left to an unprivileged user on dir's disk (0:
// unknown).
func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * st.Bsize
}

func copyBinary(bin, dir string) (string, error) {
	b, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("bench binary: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(filepath.Join(dir, "parcours"))
	if err != nil {
		return "", err
	}
	os.Remove(abs) // a running copy keeps its inode
	if err := os.WriteFile(abs, b, 0o755); err != nil {
		return "", fmt.Errorf("bench binary: %w", err)
	}
	return abs, nil
}

// child runs the parcours binary and measures it: wall time and the peak
// resident set size the kernel reports for the child.
func child(ctx context.Context, bin string, args ...string) (measured, []byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	t0 := time.Now()
	err := cmd.Run()
	m := measured{wall: time.Since(t0)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.peakRSS = ru.Maxrss * 1024
	}
	if err != nil {
		return m, append(stdout.Bytes(), stderr.Bytes()...), fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	return m, append(stdout.Bytes(), stderr.Bytes()...), nil
}

func lastDate(data string) (string, error) {
	dates, err := datedFolders(data)
	if err != nil {
		return "", err
	}
	return dates[len(dates)-1], nil
}

// jobRows reads rows in/out of a job from the run summary printed with --json.
func jobRows(out []byte, job string) (int64, string) {
	var sum struct {
		Jobs []struct {
			Job     string           `json:"job"`
			RowsIn  int64            `json:"rows_in"`
			RowsOut int64            `json:"rows_out"`
			Detail  map[string]int64 `json:"detail"`
		} `json:"jobs"`
	}
	decodeSummary(out, &sum)
	for _, j := range sum.Jobs {
		if j.Job == job {
			return j.RowsIn, fmt.Sprintf("rows out %d", j.RowsOut)
		}
	}
	return 0, ""
}

// decodeSummary finds the run summary (the first JSON object with jobs) in
// a child's output, after any log lines.
func decodeSummary(out []byte, sum any) {
	start := bytes.IndexByte(out, '{')
	dec := json.NewDecoder(bytes.NewReader(out[max(start, 0):]))
	for dec.More() {
		var probe struct {
			Jobs []json.RawMessage `json:"jobs"`
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return
		}
		if json.Unmarshal(raw, &probe) == nil && len(probe.Jobs) > 0 {
			json.Unmarshal(raw, sum)
			return
		}
	}
}

type sourceTiming struct {
	source  string
	seconds float64
	scan    float64 // of which the scan into landing, before counts, dedup and keys
	rows    int64
}

// sourceTimings reads the ingest job's per-source log lines.
func sourceTimings(logs []byte) []sourceTiming {
	var out []sourceTiming
	sc := bufio.NewScanner(bytes.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var l struct {
			Msg    string  `json:"message"`
			Source string  `json:"source"`
			Dur    float64 `json:"duration_s"`
			Scan   float64 `json:"scan_s"`
			Read   int64   `json:"read"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "source ingested" {
			out = append(out, sourceTiming{l.Source, l.Dur, l.Scan, l.Read})
		}
	}
	return out
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// loadSQL reads the SQL files the bench's own statements come from: the
// configuration's sql_dir when it sets one, else the embedded files, as
// the parcours children read theirs (a few milliseconds: read per use).
func loadSQL() (*sqlfs.Set, error) {
	cfg, err := config.Load("")
	if err != nil {
		return nil, err
	}
	fsys := sqlfs.FS()
	if cfg.SQLDir != "" {
		fsys = os.DirFS(cfg.SQLDir)
	}
	return sqlfs.Parse(fsys)
}

// vaultFields is how many PII fields each vault row seals.
const vaultFields = 8

type readTiming struct {
	values  int64
	seconds float64
}

// timeVaultRead decrypts every vault entry, as a subject access request or
// the privacy audit does, and times it.
func timeVaultRead(ctx context.Context, wh string) (readTiming, error) {
	var rt readTiming
	if _, err := os.Stat(warehouse.KeystorePath(wh)); err != nil {
		return rt, nil // the vault job was not timed
	}
	s, err := keys.Load(filepath.Join(wh, "parcours.key"), false)
	if err != nil {
		return rt, err
	}
	db, err := sql.Open("duckdb", warehouse.HotPath(wh)+"?access_mode=read_only")
	if err != nil {
		return rt, err
	}
	defer db.Close()
	var customers []string
	set, err := loadSQL()
	if err != nil {
		return rt, err
	}
	q, err := set.Section("vault.pii.sql", "customer_keys")
	if err != nil {
		return rt, err
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return rt, fmt.Errorf("vault.pii.sql customer_keys: %w", err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return rt, err
		}
		customers = append(customers, k)
	}
	rows.Close()
	start := time.Now()
	ks, err := vault.OpenKeystore(warehouse.KeystorePath(wh), s.MasterKey)
	if err != nil {
		return rt, err
	}
	recs, err := vault.ReadSubjects(ctx, db, set, ks, customers)
	if err != nil {
		return rt, err
	}
	rt.seconds = time.Since(start).Seconds()
	for _, r := range recs {
		rt.values += int64(len(r.Values))
	}
	return rt, nil
}

// dagJobs lists every job of the nightly DAG in run order, as the binary
// under test declares them, so new jobs are timed without editing the bench.
func dagJobs(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "jobs", "--json").Output()
	if err != nil {
		return "", fmt.Errorf("list jobs: %w", err)
	}
	var list struct {
		Jobs []struct {
			Job string `json:"job"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return "", fmt.Errorf("list jobs: %w", err)
	}
	names := make([]string, 0, len(list.Jobs))
	for _, j := range list.Jobs {
		names = append(names, j.Job)
	}
	return strings.Join(names, ","), nil
}
