package ingest

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLocateLines(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		file   string
		wants  []string
		lines  []int64
	}{
		{"jsonl", JSONL, "{\"a\":1}\n{\"a\":\n{\"a\":2}\n{\"a\":\n", []string{`{"a":`, `{"a":`, `{"a":2}`}, []int64{2, 4, 3}},
		{"crlf", JSONL, "x\r\ny\r\n", []string{"y"}, []int64{2}},
		{"not found", JSONL, "x\n", []string{"zzz"}, []int64{0}},
		{"csv multi-line record", CSV, "id,text\n1,\"a\nb\"\n2,bad\n", []string{"1,\"a\nb\"", "2,bad"}, []int64{2, 4}},
		// The original quoted a field that needs no quotes: the fast match
		// misses, the CSV fallback finds it.
		{"csv needless quotes", CSV, "id,text\n1,ok\n\"2\",\"bad\"\n", []string{"2,bad"}, []int64{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := locateLines(p, "", tt.format, tt.wants)
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
		if got := encodeCSV(tt.rec); got != tt.want {
			t.Errorf("encodeCSV(%q) = %q, want %q", tt.rec, got, tt.want)
		}
	}
}

func TestContractsAreValid(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Contracts() {
		if err := c.validate(); err != nil {
			t.Error(err)
		}
		if seen[c.File] {
			t.Errorf("file %s declared twice", c.File)
		}
		seen[c.File] = true
	}
}
