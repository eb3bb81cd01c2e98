package normalize

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// GoogleName is Google's rule for hashedFirstName / hashedLastName: trim
// and lowercase ("Remove leading and trailing whitespaces. Convert the text
// to lowercase." — Google Ads API, Customer Match), and, per Google's
// Customer Match data-file template, "remove all extra spaces before, after
// or in between" names: inner whitespace runs become one space. Punctuation
// is dropped too (our choice, so "O'Neil" and "ONeil", "Mr." and "Mr"
// agree; Google publishes no rule either way). Accented letters stay
// (Google's template itself lists "zoë", "pérez"), in Unicode NFC so
// composed and decomposed input hash alike.
func GoogleName(raw string) (string, error) {
	var b strings.Builder
	space := false
	for _, r := range norm.NFC.String(strings.ToLower(strings.TrimSpace(raw))) {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%w %q: nothing left after normalising", ErrInvalidName, raw)
	}
	return b.String(), nil
}

// MetaName is Meta's FN / LN rule: "Use a-z only. Lowercase only, no
// punctuation. Special characters in UTF-8 format." (Marketing API,
// Hashing and Normalizing Data): lowercase letters and digits only, spaces
// and punctuation dropped, accented letters kept as UTF-8 (NFC).
func MetaName(raw string) (string, error) {
	var b strings.Builder
	for _, r := range norm.NFC.String(strings.ToLower(raw)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%w %q: nothing left after normalising", ErrInvalidName, raw)
	}
	return b.String(), nil
}

// Country checks an ISO 3166-1 alpha-2 code and returns it uppercased, the
// form Google's addressInfo.countryCode takes (sent unhashed).
func Country(raw string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", fmt.Errorf("%w %q: want a two-letter ISO 3166-1 code", ErrInvalidCountry, raw)
	}
	return s, nil
}

// MetaCountry is Meta's COUNTRY rule: "Use lowercase, 2-letter country
// codes in ISO 3166-1 alpha-2." (hashed like every Meta field).
func MetaCountry(raw string) (string, error) {
	s, err := Country(raw)
	return strings.ToLower(s), err
}

// GooglePostal is the postal code as Google's addressInfo.postalCode takes
// it (unhashed): trimmed, uppercased, inner whitespace runs made one space.
func GooglePostal(raw string) (string, error) {
	s := strings.Join(strings.Fields(strings.ToUpper(raw)), " ")
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPostal)
	}
	return s, nil
}

// MetaZip is Meta's ZIP rule: "Use lowercase, no white space. Use only the
// first 5 digits for U.S. Use Area/District/Sector format for the UK." A
// UK postcode keeps its outward code and the sector digit ("SW1A 1AA" →
// "sw1a1"); country is the member's ISO code.
func MetaZip(raw, country string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToLower(raw) {
		if !unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPostal)
	}
	switch strings.ToUpper(strings.TrimSpace(country)) {
	case "US":
		if len(s) < 5 || strings.IndexFunc(s[:5], func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return "", fmt.Errorf("%w %q: a US ZIP starts with 5 digits", ErrInvalidPostal, raw)
		}
		s = s[:5]
	case "GB":
		// The inward code is always digit + two letters; dropping the two
		// letters (the unit) leaves area, district and sector.
		if len(s) < 5 || len(s) > 7 {
			return "", fmt.Errorf("%w %q: not a UK postcode", ErrInvalidPostal, raw)
		}
		s = s[:len(s)-2]
	}
	return s, nil
}
