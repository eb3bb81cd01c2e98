// Package textfile opens extracts as text, whatever they were written
// with: a compression told by the file's first bytes (gzip, zstd; archives
// and streams DuckDB cannot read are refused with a sentence saying what
// the file is), and an encoding other than UTF-8 decoded.
package textfile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Compressions read (DuckDB's read_csv compression names).
const (
	None = ""
	Gzip = "gzip"
	Zstd = "zstd"
)

// Compression tells a compressed file by its first bytes, whatever its
// name: a gzip file named .csv is read as gzip, not as text (which once
// wrote binary into the ledger's error column and left the job running).
func Compression(path string) (string, error) {
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
	return None, nil
}

// Open opens a file and decompresses it.
func Open(path, compression string) (io.ReadCloser, error) {
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

// Decoder returns the decoder of an encoding to UTF-8: latin-1,
// windows-1252 or utf-16 (with its byte order mark); nil for utf-8.
func Decoder(encoding string) (transform.Transformer, error) {
	switch encoding {
	case "", "utf-8":
		return nil, nil
	case "latin-1":
		return charmap.ISO8859_1.NewDecoder(), nil
	case "windows-1252":
		return charmap.Windows1252.NewDecoder(), nil
	case "utf-16":
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder(), nil
	}
	return nil, fmt.Errorf("encoding %q is not supported", encoding)
}

// DetectEncoding guesses the encoding of a file's first bytes: utf-16 by
// its byte order mark, utf-8 when the bytes are valid UTF-8 (a character
// cut at the end of the sample is allowed), else windows-1252 when bytes
// 0x80-0x9F occur (its printable characters: curly quotes, €, œ) and
// latin-1 otherwise.
func DetectEncoding(head []byte) string {
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return "utf-16"
	}
	if utf8.Valid(head) {
		return "utf-8"
	}
	// A character cut by the sample's end: an incomplete last sequence.
	i := len(head) - 1
	for i >= 0 && i > len(head)-utf8.UTFMax && head[i]&0xC0 == 0x80 {
		i--
	}
	if i >= 0 && head[i] >= 0xC0 && !utf8.FullRune(head[i:]) && utf8.Valid(head[:i]) {
		return "utf-8"
	}
	for _, c := range head {
		if c >= 0x80 && c <= 0x9F {
			return "windows-1252"
		}
	}
	return "latin-1"
}
