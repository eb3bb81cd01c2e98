package normalize

import (
	"fmt"
	"strings"
	"unicode"
)

// numbering is what normalisation needs of one country's numbering plan
// (ITU-T E.164 country code and the national significant number's length).
type numbering struct {
	cc string
	// trunk is the national prefix dialled before the significant number
	// inside the country ("0" in most of Europe, "1" in the NANP, none in
	// Spain and Italy, where a leading 0 is part of the number).
	trunk          string
	nsnMin, nsnMax int
	// valid checks the significant number's leading digits.
	valid func(nsn string) bool
}

func nonZeroStart(nsn string) bool { return nsn[0] != '0' }

// nanp: NXX-NXX-XXXX, area code and exchange both starting 2–9.
func nanp(nsn string) bool { return nsn[0] >= '2' && nsn[3] >= '2' }

// plan returns the numbering of a country (ISO 3166-1 alpha-2).
func plan(iso string) (numbering, bool) {
	switch strings.ToUpper(iso) {
	case "US", "CA":
		return numbering{cc: "1", trunk: "1", nsnMin: 10, nsnMax: 10, valid: nanp}, true
	case "FR":
		return numbering{cc: "33", trunk: "0", nsnMin: 9, nsnMax: 9, valid: nonZeroStart}, true
	case "GB":
		return numbering{cc: "44", trunk: "0", nsnMin: 9, nsnMax: 10, valid: nonZeroStart}, true
	case "DE":
		return numbering{cc: "49", trunk: "0", nsnMin: 6, nsnMax: 13, valid: nonZeroStart}, true
	case "ES":
		return numbering{cc: "34", nsnMin: 9, nsnMax: 9, valid: func(n string) bool { return n[0] >= '6' }}, true
	case "IT":
		return numbering{cc: "39", nsnMin: 6, nsnMax: 11, valid: func(string) bool { return true }}, true
	case "BE":
		return numbering{cc: "32", trunk: "0", nsnMin: 8, nsnMax: 9, valid: nonZeroStart}, true
	case "NL":
		return numbering{cc: "31", trunk: "0", nsnMin: 9, nsnMax: 9, valid: nonZeroStart}, true
	case "CH":
		return numbering{cc: "41", trunk: "0", nsnMin: 9, nsnMax: 9, valid: nonZeroStart}, true
	}
	return numbering{}, false
}

// planForCode finds the known country whose code starts digits (country
// codes are prefix-free, so at most one matches).
func planForCode(digits string) (numbering, bool) {
	for _, iso := range []string{"US", "FR", "GB", "DE", "ES", "IT", "BE", "NL", "CH"} {
		p, _ := plan(iso)
		if strings.HasPrefix(digits, p.cc) {
			return p, true
		}
	}
	return numbering{}, false
}

// Phone returns the E.164 form of a phone number ("+" then country code and
// significant number, at most 15 digits), the format Google Customer Match
// hashes ("Format phone numbers according to the E.164 standard" — Google
// Ads API, Customer Match). A number without a country code is read in the
// numbering plan of defaultCountry (ISO alpha-2; FR, GB, DE, US, CA, ES,
// IT, BE, NL, CH are known), dropping its trunk prefix: "06 12 34 56 78"
// in FR is +33612345678, "(415) 555-2671" in US is +14155552671.
// International forms are "+44 20 7946 0958", "0044 20 7946 0958" (and
// "011…" from the NANP), with an optional "(0)" after the country code.
// Separators (spaces, dots, dashes, parentheses, slashes) are ignored;
// letters, extensions and impossible lengths are errors.
func Phone(raw, defaultCountry string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPhone)
	}
	intl := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
	if intl {
		s = strings.ReplaceAll(s, "(0)", "")
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '/' || unicode.IsSpace(r):
		case unicode.IsLetter(r):
			return "", fmt.Errorf("%w %q: letters (an extension?)", ErrInvalidPhone, raw)
		default:
			return "", fmt.Errorf("%w %q: unexpected %q", ErrInvalidPhone, raw, r)
		}
	}
	digits := b.String()
	def, defOK := plan(defaultCountry)
	switch {
	case strings.HasPrefix(s, "+"):
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
		intl = true
	case defOK && def.cc == "1" && strings.HasPrefix(digits, "011"):
		digits = digits[3:]
		intl = true
	}
	if intl {
		return international(raw, digits)
	}
	if !defOK {
		return "", fmt.Errorf("%w %q: no country code, and default country %q unknown", ErrInvalidPhone, raw, defaultCountry)
	}
	nsn := digits
	if def.trunk != "" && strings.HasPrefix(nsn, def.trunk) && len(nsn) > def.nsnMin {
		nsn = nsn[len(def.trunk):]
	}
	if err := check(def, nsn); err != nil {
		return "", fmt.Errorf("%w %q in %s: %v", ErrInvalidPhone, raw, strings.ToUpper(defaultCountry), err)
	}
	return "+" + def.cc + nsn, nil
}

// international reads country code + number; numbers of countries outside
// the table are only checked against E.164's length.
func international(raw, digits string) (string, error) {
	if digits == "" || digits[0] == '0' {
		return "", fmt.Errorf("%w %q: no country code after the international prefix", ErrInvalidPhone, raw)
	}
	p, ok := planForCode(digits)
	if !ok {
		if len(digits) < 8 || len(digits) > 15 {
			return "", fmt.Errorf("%w %q: %d digits, E.164 allows 8 to 15 with the country code", ErrInvalidPhone, raw, len(digits))
		}
		return "+" + digits, nil
	}
	nsn := digits[len(p.cc):]
	// "+33 06…": the trunk 0 written after the country code by mistake.
	if p.trunk == "0" && strings.HasPrefix(nsn, "0") {
		nsn = nsn[1:]
	}
	if err := check(p, nsn); err != nil {
		return "", fmt.Errorf("%w %q: %v", ErrInvalidPhone, raw, err)
	}
	return "+" + p.cc + nsn, nil
}

func check(p numbering, nsn string) error {
	if len(nsn) < p.nsnMin || len(nsn) > p.nsnMax {
		if p.nsnMin == p.nsnMax {
			return fmt.Errorf("%d digits after +%s, want %d", len(nsn), p.cc, p.nsnMin)
		}
		return fmt.Errorf("%d digits after +%s, want %d to %d", len(nsn), p.cc, p.nsnMin, p.nsnMax)
	}
	if !p.valid(nsn) {
		return fmt.Errorf("+%s %s: not a number of that plan", p.cc, nsn)
	}
	return nil
}

// GooglePhone is Google's phone rule: E.164 with the leading "+".
func GooglePhone(raw, defaultCountry string) (string, error) { return Phone(raw, defaultCountry) }

// MetaPhone is Meta's PHONE rule: digits only, country code included, no
// "+" and no leading zeros ("Remove symbols, letters, and any leading
// zeroes… prefix the country code" — Marketing API, Hashing and
// Normalizing Data): the E.164 digits.
func MetaPhone(raw, defaultCountry string) (string, error) {
	e, err := Phone(raw, defaultCountry)
	if err != nil {
		return "", err
	}
	return e[1:], nil
}
