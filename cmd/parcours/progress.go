package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/parcours/parcours/internal/logging"
	"github.com/parcours/parcours/orchestration"
)

// liveLine keeps one progress line at the bottom of a terminal: log lines
// written through it go above the line, which is redrawn after them.
type liveLine struct {
	mu   sync.Mutex
	w    io.Writer
	line string
}

// Write writes a log line above the progress line.
func (l *liveLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.line != "" {
		_, _ = io.WriteString(l.w, "\r\x1b[K")
	}
	n, err := l.w.Write(p)
	if l.line != "" {
		_, _ = io.WriteString(l.w, l.line)
	}
	return n, err
}

// Terminal says the log lines go to a terminal (they are coloured).
func (l *liveLine) Terminal() bool { return true }

// set replaces the progress line ("" clears it).
func (l *liveLine) set(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, "\r\x1b[K"+s)
	l.line = s
}

// liveProgress gives a runner a progress line on a terminal (the job
// running, its step, how long it has run, the rows the run has read so
// far), redrawn every 200 ms; it does nothing when stderr is not a
// terminal or logs are JSON. stop clears the line.
func (a *app) liveProgress(r *orchestration.Runner) (stop func()) {
	f, ok := a.stderr.(*os.File)
	if !ok || !logging.IsTerminal(f) || a.cfg.Log.Format == "json" {
		return func() {}
	}
	line := &liveLine{w: a.stderr}
	a.log = logging.New(line, "console", a.cfg.Log.Level)
	r.Log = a.log
	var mu sync.Mutex
	var job string
	var step, total int
	var started time.Time
	var rows int64
	r.OnStart = func(j string, s, t int) {
		mu.Lock()
		job, step, total, started = j, s, t, time.Now()
		mu.Unlock()
	}
	progress := r.OnProgress
	r.OnProgress = func(s *orchestration.Summary) {
		mu.Lock()
		job, rows = "", 0
		for _, j := range s.Jobs {
			rows += j.RowsIn
		}
		mu.Unlock()
		line.set("")
		if progress != nil {
			progress(s)
		}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mu.Lock()
				if job != "" {
					line.set(fmt.Sprintf("  %s (%d/%d) running %.1fs, %d rows read so far", job, step, total, time.Since(started).Seconds(), rows))
				}
				mu.Unlock()
			}
		}
	}()
	return func() { close(done); line.set("") }
}
