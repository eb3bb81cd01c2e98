package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
)

// steadyNight is one night after the catch-up: the DAG on one day's folder
// on top of the history, as a scheduler runs it every night.
type steadyNight struct {
	date    string
	run     measured // the whole nightly run: wall and peak RSS
	jobs    map[string]float64
	rows    map[string]int64
	ordered []string
}

// datedFolders lists the data's date folders, oldest first.
func datedFolders(data string) ([]string, error) {
	entries, err := os.ReadDir(data)
	if err != nil {
		return nil, err
	}
	var dates []string
	for _, e := range entries {
		if _, err := time.Parse(time.DateOnly, e.Name()); err == nil && e.IsDir() {
			dates = append(dates, e.Name())
		}
	}
	if len(dates) == 0 {
		return nil, fmt.Errorf("no dated folder in %s", data)
	}
	sort.Strings(dates)
	return dates, nil
}

// catchUpDate is the date the catch-up night runs for when n steady nights
// follow it: the n last folders are left for them.
func catchUpDate(dates []string, n int) (catchUp string, steady []string) {
	if n <= 0 || len(dates) <= n {
		return dates[len(dates)-1], nil
	}
	return dates[len(dates)-1-n], dates[len(dates)-n:]
}

// runSteady runs `parcours run nightly` for each date, one folder at a time
// on the warehouse the catch-up built.
func runSteady(ctx context.Context, o options, data, wh string, dates []string) ([]steadyNight, error) {
	var out []steadyNight
	for _, d := range dates {
		m, stderr, err := child(ctx, o.bin, "run", "nightly", "--date", d, "--input", data, "--warehouse", wh,
			"--log-format", "json", "--json")
		if err != nil {
			return out, fmt.Errorf("steady night %s: %w\n%s", d, err, tail(stderr, 20))
		}
		m.name = "night " + d
		n := steadyNight{date: d, run: m, jobs: map[string]float64{}, rows: map[string]int64{}}
		for _, j := range jobDurations(stderr) {
			n.jobs[j.job] = j.seconds
			n.ordered = append(n.ordered, j.job)
			n.rows[j.job], _ = jobRows(stderr, j.job)
		}
		progress(m)
		out = append(out, n)
	}
	return out, nil
}

// printSteady prints each job's time on the steady nights beside the
// catch-up's, and the nights' totals and peaks.
func printSteady(catchUp []measured, nights []steadyNight) {
	if len(nights) == 0 {
		return
	}
	fmt.Println("\nsteady nights (one day's folder on top of the catch-up) vs the catch-up night:")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "job\tcatch-up s\t"
	for _, n := range nights {
		head += n.date + " s\trows/s\t"
	}
	fmt.Fprintln(tw, head)
	var catchTotal float64
	byJob := map[string]float64{}
	var jobs []string
	for _, m := range catchUp {
		switch m.name {
		case "fixtures generate", limitName:
			continue
		}
		byJob[m.name] = m.wall.Seconds()
		jobs = append(jobs, m.name)
		catchTotal += m.wall.Seconds()
	}
	for _, j := range nights[0].ordered {
		if _, ok := byJob[j]; !ok {
			jobs = append(jobs, j)
		}
	}
	for _, j := range jobs {
		line := fmt.Sprintf("%s\t%.2f\t", j, byJob[j])
		for _, n := range nights {
			s, ok := n.jobs[j]
			rate := "-"
			if ok && s > 0 && n.rows[j] > 0 {
				rate = fmt.Sprintf("%.0f", float64(n.rows[j])/s)
			}
			if ok {
				line += fmt.Sprintf("%.2f\t%s\t", s, rate)
			} else {
				line += "-\t-\t"
			}
		}
		fmt.Fprintln(tw, line)
	}
	line := fmt.Sprintf("whole night (wall)\t%.2f\t", catchTotal)
	for _, n := range nights {
		line += fmt.Sprintf("%.2f\t\t", n.run.wall.Seconds())
	}
	fmt.Fprintln(tw, line)
	line = "peak RSS MiB\t-\t"
	for _, n := range nights {
		line += fmt.Sprintf("%.0f\t\t", float64(n.run.peakRSS)/(1<<20))
	}
	fmt.Fprintln(tw, line)
	tw.Flush()
	for _, n := range nights {
		if catchTotal > 0 {
			fmt.Printf("steady night %s / catch-up night: %.3f (%.1f s / %.1f s; goal <= 0.04)\n",
				n.date, n.run.wall.Seconds()/catchTotal, n.run.wall.Seconds(), catchTotal)
		}
	}
}

// childHistory gives the warehouse o.history nights of per-customer derived
// history up to date (sql/bench.history.sql), in a child of this bench
// binary: in this process DuckDB would raise the RSS peak every later
// child reports.
func childHistory(ctx context.Context, o options, wh, date string) (measured, error) {
	self, err := os.Executable()
	if err != nil {
		return measured{}, err
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, self, "--history-of", wh, "--history-date", date, "--history", fmt.Sprint(o.history))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return measured{}, fmt.Errorf("derived history: %w", err)
	}
	m := measured{name: "history", wall: time.Since(start),
		note: fmt.Sprintf("night %s's features, scores and segments copied to the %d nights before it", date, o.history-1)}
	if _, err := fmt.Sscan(string(out), &m.rows); err != nil {
		return m, fmt.Errorf("derived history: %q: %w", out, err)
	}
	return m, nil
}

// makeHistory is childHistory's work: it prints the derived rows the
// warehouse holds afterwards.
func makeHistory(ctx context.Context, wh, date string, nights int) (int64, error) {
	set, err := loadSQL()
	if err != nil {
		return 0, err
	}
	dsn := filepath.Join(wh, "hot.duckdb")
	if l := warehouse.DefaultMemoryLimit(); l != "" {
		dsn += "?" + url.Values{"memory_limit": {l}}.Encode()
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	args := []any{sql.Named("date", date), sql.Named("nights", nights)}
	copyQ, err := set.Section("bench.history.sql", "copy")
	if err != nil {
		return 0, err
	}
	if _, err := warehouse.ExecScript(ctx, db, copyQ, args...); err != nil {
		return 0, fmt.Errorf("bench.history.sql copy: %w", err)
	}
	countQ, err := set.Section("bench.history.sql", "count")
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.QueryRowContext(ctx, countQ).Scan(&n); err != nil {
		return 0, fmt.Errorf("bench.history.sql count: %w", err)
	}
	fmt.Println(n)
	return n, nil
}
