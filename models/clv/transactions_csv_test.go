package clv

import (
	"strings"
	"testing"
	"time"
)

func TestReadTransactionsCSV(t *testing.T) {
	in := "order;client;when;total\n" +
		"1;c1;2024-03-01;10.5\n" +
		"2; c2 ;20240302;7\n" +
		"3;c1;2024-03-05 14:30:00;-2.25\n" +
		"4;c3;2024-03-06T23:10:00+02:00;1e2\n"
	got, err := ReadTransactionsCSV(strings.NewReader(in), CSVColumns{Customer: "client", Date: "when", Amount: "total", Comma: ';'})
	if err != nil {
		t.Fatal(err)
	}
	want := []Transaction{
		{"c1", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 10.5},
		{"c2", time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), 7},
		{"c1", time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC), -2.25},
		{"c3", time.Date(2024, 3, 6, 21, 10, 0, 0, time.UTC), 100},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d transactions", len(got))
	}
	for i := range want {
		if got[i].Customer != want[i].Customer || !got[i].Time.Equal(want[i].Time) || got[i].Amount != want[i].Amount {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// The RFC 3339 row keeps its own offset, so its calendar day is the 6th.
	if y, m, d := got[3].Time.Date(); y != 2024 || m != 3 || d != 6 {
		t.Errorf("local day of row 3: %d-%d-%d", y, m, d)
	}
}

func TestReadTransactionsCSVErrors(t *testing.T) {
	cols := CSVColumns{Customer: "c", Date: "d", Amount: "a"}
	tests := []struct{ name, in, wantErr string }{
		{"missing column", "c,d\nx,2024-01-01\n", `no column "a"`},
		{"bad date", "c,d,a\nx,01/02/2024,3\n", "line 2"},
		{"bad amount", "c,d,a\nx,2024-01-01,3\ny,2024-01-02,three\n", "line 3"},
		{"empty customer", "c,d,a\n,2024-01-01,3\n", "empty customer"},
		{"empty file", "", "header"},
	}
	for _, tc := range tests {
		_, err := ReadTransactionsCSV(strings.NewReader(tc.in), cols)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.wantErr)
		}
	}
}
