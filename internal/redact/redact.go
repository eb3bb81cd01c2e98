// Package redact makes error texts safe to store and show: in the run
// ledger, ops.ingest_files, logs, run summaries and on stderr. An error
// may quote input (a CSV row taken for a header, a value a database
// refused, a destination's reply), and input holds personal data; the
// ledger outlives erasure requests and is read by people who may not see
// customer data. So emails and phone-like numbers are masked, the
// original line DuckDB sometimes quotes is dropped, invalid UTF-8 and
// control characters (a binary file read as text) are replaced, and the
// text is cut to a length the ledger stores whole.
package redact

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest text Text returns, in bytes.
const MaxLen = 4000

var (
	email = regexp.MustCompile(`[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// A run of digits with the separators people write phones with.
	digits = regexp.MustCompile(`\+?[0-9][0-9 .\-/()]*[0-9]`)
	date   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`)
	// DuckDB quotes the offending line of some CSV errors.
	originalLine = regexp.MustCompile(`(?i)(original line:)[^\n]*`)
)

// Text returns s safe to store and show (see the package comment).
func Text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == 0 || unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	s = originalLine.ReplaceAllString(s, "$1 (not shown)")
	s = email.ReplaceAllString(s, "<email>")
	s = maskNumbers(s)
	if len(s) > MaxLen {
		cut := MaxLen - len(" …(cut)")
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + " …(cut)"
	}
	return s
}

// maskNumbers masks runs of 9 to 19 digits (phones, loyalty cards,
// account numbers) that are not dates or parts of a longer token such as
// a hex key or an id.
func maskNumbers(s string) string {
	var b strings.Builder
	last := 0
	for _, loc := range digits.FindAllStringIndex(s, -1) {
		m := s[loc[0]:loc[1]]
		n := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		if n < 9 || n > 19 || date.MatchString(m) || glued(s, loc[0], loc[1]) {
			continue
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString("<number>")
		last = loc[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// glued reports whether s[i:j] touches a letter or an underscore.
func glued(s string, i, j int) bool {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsLetter(r) || r == '_' {
			return true
		}
	}
	if j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsLetter(r) || r == '_' {
			return true
		}
	}
	return false
}
