package clv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVColumns names the columns of a headed transactions file.
type CSVColumns struct {
	Customer string
	Date     string
	Amount   string
	// Comma is the field separator; 0 means ','.
	Comma rune
}

// ReadTransactionsCSV reads transactions from a CSV file with a header line,
// taking the customer, date and amount from the named columns. Dates may be
// 2006-01-02, 20060102, 2006-01-02 15:04:05 or RFC 3339; amounts are plain
// decimal numbers. A malformed row is an error naming its line: the CLV fit
// should not run on silently thinned data.
func ReadTransactionsCSV(r io.Reader, cols CSVColumns) ([]Transaction, error) {
	cr := csv.NewReader(r)
	if cols.Comma != 0 {
		cr.Comma = cols.Comma
	}
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read transactions: header: %w", err)
	}
	idx := make(map[string]int, len(header))
	for i, h := range header {
		idx[strings.TrimSpace(h)] = i
	}
	var ci, di, ai int
	for _, c := range []struct {
		name string
		dst  *int
	}{{cols.Customer, &ci}, {cols.Date, &di}, {cols.Amount, &ai}} {
		i, ok := idx[c.name]
		if !ok {
			return nil, fmt.Errorf("read transactions: no column %q in header %q", c.name, header)
		}
		*c.dst = i
	}

	var out []Transaction
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read transactions: %w", err)
		}
		line, _ := cr.FieldPos(0)
		id := strings.TrimSpace(rec[ci])
		if id == "" {
			return nil, fmt.Errorf("read transactions: line %d: empty customer", line)
		}
		when, err := ParseDate(strings.TrimSpace(rec[di]))
		if err != nil {
			return nil, fmt.Errorf("read transactions: line %d: %w", line, err)
		}
		amount, err := strconv.ParseFloat(strings.TrimSpace(rec[ai]), 64)
		if err != nil {
			return nil, fmt.Errorf("read transactions: line %d: amount: %w", line, err)
		}
		out = append(out, Transaction{Customer: id, Time: when, Amount: amount})
	}
}

// ParseDate accepts the layouts ReadTransactionsCSV documents; only
// the calendar day matters to the models, so RFC 3339 times keep their own
// offset and are reduced to their local day by Summarize.
func ParseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, "20060102", time.DateTime, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not 2006-01-02, 20060102, 2006-01-02 15:04:05 or RFC 3339", s)
}
