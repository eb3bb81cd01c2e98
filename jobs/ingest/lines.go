package ingest

import (
	"bufio"
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
// the few rejected rows are looked up here, by their text. The file is
// read through br, the caller's buffer for all the files it searches.
func locateLines(br *bufio.Reader, path, compression string, format sources.Format, opt csvOptions, wants []string) ([]int64, error) {
	out := make([]int64, len(wants))
	if len(wants) == 0 {
		return out, nil
	}
	byFirst := map[string][]int{}
	for i, w := range wants {
		first, _, _ := strings.Cut(w, "\n")
		first = strings.TrimSuffix(first, "\r") // a record over CRLF lines
		byFirst[first] = append(byFirst[first], i)
	}
	// The file is streamed, not read whole, through a buffer reused from
	// file to file: allocating and clearing one per file cost more than
	// the search (1.5 s for a year of web events read whole).
	f, err := textfile.Open(path, compression)
	if err != nil {
		return nil, err
	}
	br.Reset(f)
	left := len(wants)
	var (
		lineNo int64
		long   []byte // a line longer than the buffer, gathered
	)
	for left > 0 {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			f.Close()
			return nil, err
		}
		cur := chunk // the line with its end, as the file has it
		if long != nil {
			cur = append(long, chunk...)
			long = nil
		}
		if len(cur) == 0 {
			break
		}
		lineNo++
		line := bytes.TrimSuffix(bytes.TrimSuffix(cur, []byte{'\n'}), []byte{'\r'})
		if cands, ok := byFirst[string(line)]; ok {
			for k, wi := range cands {
				if w := wants[wi]; strings.Contains(w, "\n") && !continues(br, cur, w) {
					continue
				}
				out[wi] = lineNo
				left--
				byFirst[string(line)] = append(cands[:k:k], cands[k+1:]...)
				break
			}
		}
		if err != nil {
			break // io.EOF
		}
	}
	f.Close()
	if left > 0 && format == sources.CSV {
		f, err := textfile.Open(path, compression)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := locateCSVRecords(f, opt, wants, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// continues says whether the file, from the line cur just read on, starts
// with w (a record over several lines).
func continues(br *bufio.Reader, cur []byte, w string) bool {
	if len(w) <= len(cur) {
		return bytes.HasPrefix(cur, []byte(w))
	}
	if !strings.HasPrefix(w, string(cur)) {
		return false
	}
	next, err := br.Peek(len(w) - len(cur))
	return err == nil && string(next) == w[len(cur):]
}

// locateCSVRecords is the fallback for CSV rows whose original text used
// quoting the re-encoding does not reproduce: parse the file and compare
// re-encoded records.
func locateCSVRecords(data io.Reader, opt csvOptions, wants []string, out []int64) error {
	pending := map[string][]int{}
	for i, w := range wants {
		if out[i] == 0 {
			pending[w] = append(pending[w], i)
		}
	}
	r := csv.NewReader(bufio.NewReaderSize(data, 1<<20))
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
