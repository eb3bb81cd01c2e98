// Package csvsafe keeps spreadsheet formulas out of the CSV files parcours
// writes (CSV or formula injection, OWASP): a cell that begins with =, +,
// -, @, a tab or a carriage return is run as a formula by Excel, LibreOffice
// and Google Sheets when the file is opened, so a first name such as
// =HYPERLINK("http://…","click") would become a live link in a marketing
// team's spreadsheet. Such cells are prefixed with a single quote, which
// spreadsheets show as text and never evaluate. Plain numbers (-12.5,
// +33612345678) carry no formula and are left as they are, so amounts and
// E.164 phone numbers reach the receiving tools unchanged.
package csvsafe

import (
	"encoding/csv"
	"io"
	"regexp"
)

var number = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// Cell returns s, neutralised when a spreadsheet would run it as a formula.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if s[0] != '=' && s[0] != '@' && number.MatchString(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// Record neutralises every cell of a record, in place, and returns it.
func Record(rec []string) []string {
	for i, c := range rec {
		rec[i] = Cell(c)
	}
	return rec
}

// Writer is a csv.Writer whose cells are neutralised.
type Writer struct{ *csv.Writer }

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{csv.NewWriter(w)} }

// Write neutralises and writes one record (the caller's slice is not changed).
func (w *Writer) Write(rec []string) error {
	return w.Writer.Write(Record(append([]string(nil), rec...)))
}

// WriteAll neutralises and writes records, then flushes.
func (w *Writer) WriteAll(recs [][]string) error {
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
