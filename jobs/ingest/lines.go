package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/textfile"
)

// locateLines finds the 1-based physical line number of each wanted row
// text in a file (0 when not found). Identical texts take successive
// occurrences. DuckDB's parallel readers do not number rows, and numbering
// them in SQL serialises the scan, so ingest loads at full speed and only
// the few rejected rows are looked up here, by their text.
func locateLines(path, compression string, format sources.Format, opt csvOptions, wants []string) ([]int64, error) {
	out := make([]int64, len(wants))
	if len(wants) == 0 {
		return out, nil
	}
	f, err := textfile.Open(path, compression)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	byFirst := map[string][]int{}
	for i, w := range wants {
		first, _, _ := strings.Cut(w, "\n")
		byFirst[first] = append(byFirst[first], i)
	}
	left := len(wants)
	var lineNo int64
	for start := 0; start < len(data) && left > 0; {
		lineNo++
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += start
		}
		line := bytes.TrimSuffix(data[start:end], []byte{'\r'})
		if cands, ok := byFirst[string(line)]; ok {
			for k, wi := range cands {
				w := wants[wi]
				if strings.Contains(w, "\n") && !bytes.HasPrefix(data[start:], []byte(w)) {
					continue
				}
				out[wi] = lineNo
				left--
				byFirst[string(line)] = append(cands[:k:k], cands[k+1:]...)
				break
			}
		}
		start = end + 1
	}
	if left > 0 && format == sources.CSV {
		if err := locateCSVRecords(data, opt, wants, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// locateCSVRecords is the fallback for CSV rows whose original text used
// quoting the re-encoding does not reproduce: parse the file and compare
// re-encoded records.
func locateCSVRecords(data []byte, opt csvOptions, wants []string, out []int64) error {
	pending := map[string][]int{}
	for i, w := range wants {
		if out[i] == 0 {
			pending[w] = append(pending[w], i)
		}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.Comma = rune(opt.delim)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			continue
		}
		if err != nil {
			return err
		}
		key := encodeCSV(rec, opt.delim)
		if idx := pending[key]; len(idx) > 0 {
			line, _ := r.FieldPos(0)
			out[idx[0]] = int64(line)
			pending[key] = idx[1:]
		}
	}
}

// encodeCSV is the Go twin of the csv_field SQL macro, joined by the
// source's delimiter.
func encodeCSV(rec []string, delim byte) string {
	parts := make([]string, len(rec))
	for i, f := range rec {
		if strings.ContainsAny(f, "\",\r\n") {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		parts[i] = f
	}
	return strings.Join(parts, string(delim))
}
