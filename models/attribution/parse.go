package attribution

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DefaultSeparator is the channel separator of the ChannelAttribution path format.
const DefaultSeparator = " > "

// Column names of the ChannelAttribution path-aggregate CSV format.
const (
	colPath  = "path"
	colConv  = "total_conversions"
	colValue = "total_conversion_value"
	colNull  = "total_null"
)

// ParsePaths reads the ChannelAttribution path-aggregate CSV format: a header
// with columns path and total_conversions (required) and total_conversion_value
// and total_null (optional), in any order. Channels in path are split on sep
// (DefaultSeparator when empty) and trimmed. Fields are separated by delim
// (',' when 0; a quoted field may hold it). Errors name the line and
// column.
func ParsePaths(r io.Reader, sep string, delim rune) ([]Path, error) {
	if sep == "" {
		sep = DefaultSeparator
	}
	cr := csv.NewReader(r)
	if delim != 0 {
		cr.Comma = delim
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parse paths: empty input, no header")
		}
		return nil, fmt.Errorf("parse paths: header: %w", err)
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{colPath, colConv} {
		if _, ok := cols[need]; !ok {
			return nil, fmt.Errorf("parse paths: line 1: missing column %q", need)
		}
	}
	var out []Path
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse paths: %w", err)
		}
		line, _ := cr.FieldPos(0)
		p, err := parseRecord(rec, cols, sep, line)
		if err != nil {
			return nil, fmt.Errorf("parse paths: %w", err)
		}
		out = append(out, p)
	}
}

// parseRecord converts one CSV record into a Path.
func parseRecord(rec []string, cols map[string]int, sep string, line int) (Path, error) {
	field := func(name string) (string, bool, error) {
		i, ok := cols[name]
		if !ok {
			return "", false, nil
		}
		if i >= len(rec) {
			return "", false, fmt.Errorf("line %d, column %q: missing field", line, name)
		}
		return strings.TrimSpace(rec[i]), true, nil
	}
	number := func(name string) (float64, error) {
		s, ok, err := field(name)
		if err != nil || !ok {
			return 0, err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("line %d, column %q: bad non-negative number %q", line, name, s)
		}
		return v, nil
	}
	raw, _, err := field(colPath)
	if err != nil {
		return Path{}, err
	}
	var p Path
	for _, c := range strings.Split(raw, sep) {
		c = strings.TrimSpace(c)
		if c == "" {
			return Path{}, fmt.Errorf("line %d, column %q: empty channel in %q", line, colPath, raw)
		}
		p.Channels = append(p.Channels, c)
	}
	if p.Conversions, err = number(colConv); err != nil {
		return Path{}, err
	}
	if p.Value, err = number(colValue); err != nil {
		return Path{}, err
	}
	if p.Nulls, err = number(colNull); err != nil {
		return Path{}, err
	}
	return p, nil
}
