package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Compressions ingest reads (DuckDB's read_csv compression names).
const (
	Uncompressed = ""
	Gzip         = "gzip"
	Zstd         = "zstd"
)

// sniffCompression tells a compressed file by its first bytes, whatever
// its name: a gzip file named .csv is read as gzip, not as text (which
// once wrote binary into the ledger's error column and left the job
// running). Archives and compressions DuckDB cannot stream are refused
// with a sentence saying what the file is.
func sniffCompression(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 6)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "", errors.New("is a ZIP archive (a spreadsheet workbook or a zipped export), not text: export it as CSV, or unzip it")
	case bytes.HasPrefix(head, []byte("BZh")):
		return "", errors.New("is bzip2-compressed: recompress it with gzip or zstd, which ingest reads")
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "", errors.New("is xz-compressed: recompress it with gzip or zstd, which ingest reads")
	}
	return Uncompressed, nil
}

// openText opens a text extract, decompressing it when needed.
func openText(path, compression string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	switch compression {
	case Gzip:
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readCloser{z, func() error { z.Close(); return f.Close() }}, nil
	case Zstd:
		z, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return readCloser{z, func() error { z.Close(); return f.Close() }}, nil
	}
	return f, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// records is what an independent pass over a text extract found.
type records struct {
	// N counts the records (data rows, header excluded; blank lines are
	// not records), as DuckDB's reader should return them.
	N int64
	// Unclosed is the line of a quote never closed before the end of the
	// file (0 if none): the reader takes the rest of the file for one
	// value, and the rows written after it are never returned.
	Unclosed int64
}

// physLine is one physical line of a file.
type physLine struct {
	N    int64
	Text string
}

// linesAfter returns the non-blank physical lines after line n: after
// an unclosed quote, the rows the reader swallowed.
func linesAfter(r io.Reader, n int64) ([]physLine, error) {
	var out []physLine
	br := bufio.NewReaderSize(r, 1<<20)
	var line int64
	for {
		text, err := br.ReadString('\n')
		if len(text) > 0 {
			line++
			// A lone \r ends a line too.
			parts := bytes.Split([]byte(strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")), []byte{'\r'})
			for k, p := range parts {
				if k > 0 {
					line++
				}
				if line > n && len(p) > 0 {
					out = append(out, physLine{N: line, Text: string(p)})
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// countRecords counts the records of a CSV (header line first; ',' and
// '"' with "" for a quote inside quotes, as the loader reads them) or
// JSON lines file, independently of DuckDB, so that rows a malformed file
// hides (an unclosed quote swallowing the rest of it) are found and
// counted rather than lost.
func countRecords(r io.Reader, format Format) (records, error) {
	var out records
	br := bufio.NewReaderSize(r, 1<<20)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	var (
		line       int64 // physical line being read, 1-based
		inQuote    bool
		fieldStart = true // at the start of a field: a quote opens a quoted value
		recEmpty   = true // the record so far has no character
		quoteLine  int64
		prevCR     bool
		header     = format == CSV
	)
	endRecord := func() {
		if !recEmpty {
			if header {
				header = false
			} else {
				out.N++
			}
		}
		recEmpty, fieldStart = true, true
	}
	line = 1
	for {
		chunk, err := br.ReadSlice('\n')
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			if c == '\n' && prevCR { // \r\n: the \r ended the line already
				prevCR = false
				continue
			}
			prevCR = c == '\r'
			if c == '\n' || c == '\r' {
				if !inQuote {
					endRecord()
				} else {
					recEmpty = false
				}
				line++
				continue
			}
			recEmpty = false
			if format == JSONL {
				continue
			}
			switch {
			case inQuote && c == '"':
				if i+1 < len(chunk) && chunk[i+1] == '"' {
					i++ // "" inside quotes
				} else if i+1 == len(chunk) {
					if b, _ := br.Peek(1); len(b) == 1 && b[0] == '"' {
						_, _ = br.Discard(1)
					} else {
						inQuote = false
					}
				} else {
					inQuote = false
				}
			case inQuote:
			case c == '"' && fieldStart:
				inQuote, quoteLine = true, line
				fieldStart = false
			case c == ',':
				fieldStart = true
			default:
				fieldStart = false
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
	}
	endRecord()
	if inQuote {
		out.Unclosed = quoteLine
	}
	return out, nil
}
