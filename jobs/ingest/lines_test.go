package ingest

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/sources"
)

func TestLocateLines(t *testing.T) {
	tests := []struct {
		name   string
		format sources.Format
		file   string
		wants  []string
		lines  []int64
	}{
		{"jsonl", sources.JSONL, "{\"a\":1}\n{\"a\":\n{\"a\":2}\n{\"a\":\n", []string{`{"a":`, `{"a":`, `{"a":2}`}, []int64{2, 4, 3}},
		{"crlf", sources.JSONL, "x\r\ny\r\n", []string{"y"}, []int64{2}},
		{"not found", sources.JSONL, "x\n", []string{"zzz"}, []int64{0}},
		{"no final newline", sources.JSONL, "x\ny", []string{"y", "x"}, []int64{2, 1}},
		{"line longer than the buffer", sources.JSONL, "a\n" + strings.Repeat("b", 1<<20+3) + "\nc\n",
			[]string{"c", strings.Repeat("b", 1<<20+3)}, []int64{3, 2}},
		{"csv crlf multi-line record", sources.CSV, "id,text\r\n1,\"a\r\nb\"\r\n2,bad\r\n", []string{"1,\"a\r\nb\"", "2,bad"}, []int64{2, 4}},
		{"csv multi-line record", sources.CSV, "id,text\n1,\"a\nb\"\n2,bad\n", []string{"1,\"a\nb\"", "2,bad"}, []int64{2, 4}},
		// The original quoted a field that needs no quotes: the fast match
		// misses, the CSV fallback finds it.
		{"csv needless quotes", sources.CSV, "id,text\n1,ok\n\"2\",\"bad\"\n", []string{"2,bad"}, []int64{3}},
	}
	br := bufio.NewReaderSize(nil, countBuffer) // one for every file, as the loader does
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := locateLines(br, p, "", tt.format, defaultCSV(), tt.wants)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.lines) {
				t.Fatalf("lines = %v, want %v", got, tt.lines)
			}
		})
	}
}

func TestEncodeCSV(t *testing.T) {
	tests := []struct {
		rec  []string
		want string
	}{
		{[]string{"a", "b"}, "a,b"},
		{[]string{"a,b", `say "hi"`, ""}, `"a,b","say ""hi""",`},
		{[]string{"two\nlines"}, "\"two\nlines\""},
	}
	for _, tt := range tests {
		if got := encodeCSV(tt.rec, ','); got != tt.want {
			t.Errorf("encodeCSV(%q) = %q, want %q", tt.rec, got, tt.want)
		}
	}
}
