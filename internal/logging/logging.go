// Package logging builds parcours' zerolog logger: JSON lines for machines
// (schedulers, log shippers), a readable console when a person watches.
package logging

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/redact"
)

// New returns a logger writing to w. format is auto, json or console; auto
// picks console when w is a terminal.
func New(w io.Writer, format, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
			format = "console"
		}
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	// Errors may quote input; every .Err() field is redacted on the way
	// out (emails, phone-like numbers, control bytes, length).
	zerolog.ErrorMarshalFunc = func(err error) any {
		if err == nil {
			return nil
		}
		return redact.Text(err.Error())
	}
	if format == "console" {
		// Colours only on a terminal (or a writer that stands for one, such
		// as the live progress line's).
		tty := false
		if f, ok := w.(*os.File); ok {
			tty = IsTerminal(f)
		} else if t, ok := w.(interface{ Terminal() bool }); ok {
			tty = t.Terminal()
		}
		w = zerolog.ConsoleWriter{Out: w, NoColor: !tty, TimeFormat: "15:04:05", PartsOrder: []string{
			zerolog.TimestampFieldName, zerolog.LevelFieldName, "step", "job", zerolog.MessageFieldName},
			// Shown as parts, not again as fields.
			FieldsExclude: []string{"step", "job"},
			FormatPrepare: roundForPeople,
			// Run-level lines carry no step or job: print nothing, not "<nil>".
			FormatPartValueByName: func(v any, name string) string {
				if v == nil {
					return ""
				}
				return fmt.Sprint(v)
			}}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// IsTerminal reports whether f is an interactive terminal.
func IsTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// roundForPeople rounds a console line's numbers for a person: durations
// (fields ending in _s) to 0.1 s, other decimals to 3 places. JSON logs
// keep full precision for machines.
func roundForPeople(evt map[string]any) error {
	for k, v := range evt {
		n, ok := v.(json.Number)
		if !ok || !strings.ContainsAny(string(n), ".eE") {
			continue
		}
		f, err := n.Float64()
		if err != nil {
			continue
		}
		digits := 3
		if strings.HasSuffix(k, "_s") {
			digits = 1
		}
		evt[k] = json.Number(strconv.FormatFloat(f, 'f', digits, 64))
	}
	return nil
}

// Steps returns a function that logs, at debug level, each step of a job
// with the seconds since the previous step (or since Steps was called),
// as {"phase": step, "took_s": s} under message msg ("purge step"). The
// field is not "step": the runner's logger already carries the job's place
// in the night under that name, and a JSON line must not hold a key twice.
func Steps(log zerolog.Logger, msg string) func(step string) {
	t0 := time.Now()
	return func(step string) {
		log.Debug().Str("phase", step).Float64("took_s", time.Since(t0).Seconds()).Msg(msg)
		t0 = time.Now()
	}
}
