package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/parcours/parcours/internal/sources"
	"github.com/parcours/parcours/internal/textfile"
)

func TestCountRecords(t *testing.T) {
	cases := []struct {
		name, text  string
		format      sources.Format
		n, unclosed int64
	}{
		{"plain", "a,b\n1,2\n3,4\n", sources.CSV, 2, 0},
		{"no final newline", "a,b\n1,2\n3,4", sources.CSV, 2, 0},
		{"blank lines", "a,b\n1,2\n\n3,4\n\n", sources.CSV, 2, 0},
		{"crlf", "a,b\r\n1,2\r\n3,4\r\n", sources.CSV, 2, 0},
		{"mixed endings", "a,b\r\n1,2\n3,4\r\n\n5,6\r7,8\n", sources.CSV, 4, 0},
		{"lone cr", "a,b\r1,2\r3,4\r", sources.CSV, 2, 0},
		{"bom", "\xEF\xBB\xBFa,b\n1,2\n", sources.CSV, 1, 0},
		{"quoted newline", "a,b\n1,\"x\ny\"\n3,4\n", sources.CSV, 2, 0},
		{"escaped quote", "a,b\n1,\"say \"\"hi\"\"\n,ok\"\n3,4\n", sources.CSV, 2, 0},
		{"quote inside a value", "a,b\n1,x\"y\n3,4\n", sources.CSV, 2, 0},
		{"junk after a quote", "a,b\n1,\"x\"y\n3,4\n", sources.CSV, 2, 0},
		{"spaces only", "a,b\n1,2\n   \n3,4\n", sources.CSV, 3, 0},
		{"unclosed quote", "a,b\n1,2\n3,\"4\n5,6\n7,8\n", sources.CSV, 2, 3},
		{"jsonl", "{\"a\":1}\n\n{\"a\":\"x,\\\"y\"}\n{broken\n", sources.JSONL, 3, 0},
		{"jsonl quotes are text", "{\"a\":\"\n{\"b\":2}\n", sources.JSONL, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := countRecords(strings.NewReader(tc.text), tc.format, defaultCSV())
			if err != nil || got.N != tc.n || got.Unclosed != tc.unclosed {
				t.Fatalf("got %+v %v, want %d records, unclosed at %d", got, err, tc.n, tc.unclosed)
			}
		})
	}
	// The loader counts a source's files through one reader, reset for
	// each: nothing of a file (an open quote, a BOM, a last line without
	// its newline) may carry over to the next.
	br := bufio.NewReaderSize(nil, countBuffer)
	for pass := range 2 {
		for i := range cases {
			tc := cases[i]
			if pass == 1 {
				tc = cases[len(cases)-1-i]
			}
			br.Reset(strings.NewReader(tc.text))
			if got, err := countRecords(br, tc.format, defaultCSV()); err != nil || got.N != tc.n || got.Unclosed != tc.unclosed {
				t.Errorf("%s through a reused reader (pass %d): got %+v %v, want %d records, unclosed at %d", tc.name, pass, got, err, tc.n, tc.unclosed)
			}
		}
	}
	// A line longer than the reader's buffer, then short ones.
	long := "a,b\n" + strings.Repeat("x", 1<<20+10) + "\n1,2\n\n3,4\n"
	for _, f := range []sources.Format{sources.CSV, sources.JSONL} {
		want := int64(3)
		if f == sources.JSONL {
			want = 4 // no header
		}
		if got, err := countRecords(strings.NewReader(long), f, defaultCSV()); err != nil || got.N != want {
			t.Fatalf("long line (%v): %+v %v, want %d", f, got, err, want)
		}
	}
	// An escaped quote split across the reader's buffer.
	big := "a,b\n" + strings.Repeat("1,2\n", 300000) + "9,\"" + strings.Repeat("x", 1<<20-5) + "\"\"\"\n"
	if got, err := countRecords(strings.NewReader(big), sources.CSV, defaultCSV()); err != nil || got.N != 300001 || got.Unclosed != 0 {
		t.Fatalf("big: %+v %v", got, err)
	}
}

func TestLinesAfter(t *testing.T) {
	got, err := linesAfter(strings.NewReader("a,b\n1,2\n3,\"4\n\n5,6\r\n7,8\r9,9"), 3)
	want := []physLine{{5, "5,6"}, {6, "7,8"}, {7, "9,9"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%v %v, want %v", got, err, want)
	}
}

func TestSniffCompression(t *testing.T) {
	dir := t.TempDir()
	text := []byte("a,b\n1,2\n")
	var gz, zs bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(text)
	w.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(text)
	zw.Close()
	for _, tc := range []struct {
		name    string
		body    []byte
		want    string
		wantErr string
	}{
		{"plain.csv", text, textfile.None, ""},
		{"gzip-named.csv", gz.Bytes(), textfile.Gzip, ""},
		{"zstd-named.csv", zs.Bytes(), textfile.Zstd, ""},
		{"workbook.csv", []byte("PK\x03\x04rest"), "", "ZIP archive"},
		{"b.csv", []byte("BZh91AY"), "", "bzip2"},
		{"empty.csv", nil, textfile.None, ""},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.body, 0o644)
		got, err := textfile.Compression(p)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v, want an error about %s", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
			continue
		}
		r, err := textfile.Open(p, got)
		if err != nil {
			t.Fatal(err)
		}
		n, err := countRecords(r, sources.CSV, defaultCSV())
		r.Close()
		if err != nil || (len(tc.body) > 0 && n.N != 1) {
			t.Errorf("%s: read back %+v %v", tc.name, n, err)
		}
	}
}

// topKeys lists what decoding the line into a map lists, for every shape
// of JSON line: nested values, escapes in keys and values, colons and
// braces inside strings, whitespace, and values that are not objects.
func TestTopKeysAgreesWithDecode(t *testing.T) {
	for _, line := range []string{
		`{"a":1,"b":"x","c":null}`,
		`{}`,
		` { "a" : 1 , "b" : { "inner" : [ {"deep": 1} ] } , "c" : [1, {"d": 2}] } `,
		`{"quote\"d":1,"back\\slash":2,"tab\tkey":3,"\u00e9t\u00e9":4}`,
		`{"a":"value: with a colon","b":"{not: an object}","c":"\"quoted\": 1"}`,
		`{"a":"ends with a backslash\\","b":2}`,
		`{"dup":1,"dup":2,"z":3}`,
		`{"a":{"b":{"c":{"d":"e"}}},"f":[[[]]],"g":true}`,
		`[1,2,{"a":1}]`, `"a string"`, `42`, `null`,
		"{\"a\":1,\n\"b\":2}",
	} {
		if !json.Valid([]byte(line)) {
			t.Fatalf("%s: not valid JSON, fix the case", line)
		}
		var want []string
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &obj) == nil {
			for k := range obj {
				want = append(want, k)
			}
		}
		got := slices.Compact(slices.Sorted(slices.Values(topKeys([]byte(line), nil))))
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: topKeys %q, decoding %q", line, got, want)
		}
	}
}
