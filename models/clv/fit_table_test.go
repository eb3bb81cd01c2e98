package clv

import (
	"strings"
	"testing"
)

func TestTransactionsFromTable(t *testing.T) {
	header := []string{"id", "when", "amount"}
	c := TableColumns{Customer: 0, Date: 1, Amount: 2}
	for _, tc := range []struct {
		name string
		rows [][]string
		n    int
		err  string
	}{
		{"ok", [][]string{{"a", "1997-01-01", "11.77"}, {" b ", "19970102", "3"}}, 2, ""},
		{"empty customer", [][]string{{" ", "1997-01-01", "1"}}, 0, "f.csv line 7: column id: empty customer"},
		{"bad date", [][]string{{"secret-id", "01/02/1997", "1"}}, 0, "f.csv line 7: column when"},
		{"bad amount", [][]string{{"secret-id", "1997-01-01", "1,5"}}, 0, `f.csv line 7: column amount: "1,5" is not a number`},
		{"no rows", nil, 0, "f.csv: no transactions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := make([]int, len(tc.rows))
			for i := range lines {
				lines[i] = 7 + i
			}
			txs, err := TransactionsFromTable("f.csv", header, tc.rows, lines, c)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "secret-id") {
					t.Fatalf("err = %v, want %q and no customer id", err, tc.err)
				}
				return
			}
			if err != nil || len(txs) != tc.n || txs[1].Customer != "b" {
				t.Fatalf("txs = %+v, %v", txs, err)
			}
		})
	}
}
