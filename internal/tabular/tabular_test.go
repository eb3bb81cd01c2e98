package tabular

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Files in the shapes users bring, written by hand: a spreadsheet's
// semicolon CSV, aligned text without a header, a quoted comma.
func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name, text, sep string
		header          bool
		wantHeader      []string
		wantRows        [][]string
		wantLines       []int
		err             string
	}{
		{name: "semicolon sniffed", text: "id;amount\r\n1;2,50\r\n2;3\r\n", header: true,
			wantHeader: []string{"id", "amount"}, wantRows: [][]string{{"1", "2,50"}, {"2", "3"}}, wantLines: []int{2, 3}},
		{name: "tab sniffed", text: "id\tamount\n1\t2.5\n", header: true,
			wantHeader: []string{"id", "amount"}, wantRows: [][]string{{"1", "2.5"}}, wantLines: []int{2}},
		{name: "quoted comma", text: "id,name\n1,\"Doe, J\"\n", header: true,
			wantHeader: []string{"id", "name"}, wantRows: [][]string{{"1", "Doe, J"}}, wantLines: []int{2}},
		{name: "whitespace without header", text: "00001  19970101  1  11.77\n\n00002  19970112  2  89.00\n", sep: "whitespace",
			wantHeader: []string{"1", "2", "3", "4"}, wantRows: [][]string{{"00001", "19970101", "1", "11.77"}, {"00002", "19970112", "2", "89.00"}}, wantLines: []int{1, 3}},
		{name: "ragged row", text: "a,b\n1,2\n3\n", header: true, err: "line 3: 1 fields, the header has 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.txt")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			tab, err := Read(path, tc.sep, tc.header, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tab.Header, tc.wantHeader) || !reflect.DeepEqual(tab.Rows, tc.wantRows) || !reflect.DeepEqual(tab.Line, tc.wantLines) {
				t.Errorf("got %q %q %v, want %q %q %v", tab.Header, tab.Rows, tab.Line, tc.wantHeader, tc.wantRows, tc.wantLines)
			}
		})
	}
}

func TestColumn(t *testing.T) {
	tab := &Table{Path: "f.csv", Header: []string{"id", " date "}}
	for _, tc := range []struct {
		name string
		want int
		err  bool
	}{{"id", 0, false}, {"date", 1, false}, {"2", 1, false}, {"3", 0, true}, {"amount", 0, true}} {
		got, err := tab.Column(tc.name)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("Column(%q) = %d, %v", tc.name, got, err)
		}
	}
}
