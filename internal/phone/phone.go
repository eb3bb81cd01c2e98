// Package phone is parcours' one phone normaliser, on libphonenumber's
// rules for every country (github.com/nyaruka/phonenumbers): a number as
// people write it ("06 64 35 63 42", "+33 (0)6 64 35 63 42",
// "0033 664 356 342") becomes its E.164 form (+33664356342), and an E.164
// number gives back the digits that identify it in any written form.
// Ingest (through the norm_phone SQL function), identity, erasure and
// activation all normalise with it, so one number is one identifier.
package phone

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// E164 returns the E.164 form of raw, a number written in any common way;
// a number without a country code is read in region (ISO 3166 alpha-2).
// ok is false when raw is not a phone number: letters, impossible
// lengths, or a placeholder whose significant number starts with 0
// ("0000000000"). A number of a valid length whose ranges libphonenumber
// does not know is kept: numbering plans change faster than its tables,
// and an identifier is worth keeping.
func E164(raw, region string) (string, bool) {
	n, valid, err := parse(raw, region)
	if err != nil {
		return "", false
	}
	// Possible: a full number's length (not a local number without its
	// area code, which names nobody).
	possible := phonenumbers.IsPossibleNumberWithReason(n) == phonenumbers.IS_POSSIBLE
	if !valid && (!possible || strings.HasPrefix(phonenumbers.GetNationalSignificantNumber(n), "0")) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// Strict is E164 for numbers sent to others (ad platforms' customer
// lists): the number must be valid in its country's numbering plan as
// libphonenumber knows it. The error says why, without the number.
func Strict(raw, region string) (string, error) {
	n, valid, err := parse(raw, region)
	if err != nil {
		return "", err
	}
	if !valid {
		if phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
			return "", fmt.Errorf("%d digits is not a possible length for +%d", len(phonenumbers.GetNationalSignificantNumber(n)), n.GetCountryCode())
		}
		return "", fmt.Errorf("not a number of the numbering plan of +%d", n.GetCountryCode())
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// parse reads raw in region; valid says whether libphonenumber knows the
// number's range.
func parse(raw, region string) (*phonenumbers.PhoneNumber, bool, error) {
	s := written(raw)
	if s == "" {
		return nil, false, errors.New("empty")
	}
	if strings.IndexFunc(s, isLetter) >= 0 {
		return nil, false, errors.New("letters (an extension?)")
	}
	region = strings.ToUpper(region)
	if n := fastParse(s, region); n != nil {
		if valid, kept := fastCheck(n); valid || kept {
			return n, valid, nil
		}
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		if !internationalPrefix(s) && !ValidRegion(region) {
			return nil, false, fmt.Errorf("no country code, and the default region %q is not a country", region)
		}
		return nil, false, errors.New("not a phone number")
	}
	if validNumber(n) {
		return n, true, nil
	}
	// "+33 06 12 34 56 78": the trunk 0 written after the country code.
	if nsn := phonenumbers.GetNationalSignificantNumber(n); strings.HasPrefix(nsn, "0") && internationalPrefix(s) {
		if m, err := phonenumbers.Parse("+"+strconv.Itoa(int(n.GetCountryCode()))+nsn[1:], region); err == nil && validNumber(m) {
			return m, true, nil
		}
	}
	return n, false, nil
}

// written is raw as the parsers read it: trimmed, without the "(0)" some
// write after the country code ("+33 (0)6 ...": the trunk 0).
func written(raw string) string {
	return strings.ReplaceAll(strings.TrimSpace(raw), "(0)", "")
}

// fastRegions are the countries whose numbers the fast path reads: their
// national numbers only drop a plain trunk prefix (0, or 1 in the NANP).
// Countries whose libphonenumber metadata rewrites national numbers
// (carrier codes, mobile tokens: Argentina, Brazil, Mexico, the Channel
// Islands...) take the full parse. TestFastPathAgreesWithParse checks
// every one of them.
var fastRegions = map[string]bool{
	"FR": true, "DE": true, "GB": true, "IE": true, "ES": true, "PT": true, "IT": true, "NL": true, "BE": true,
	"LU": true, "CH": true, "AT": true, "DK": true, "SE": true, "NO": true, "FI": true, "PL": true, "CZ": true,
	"GR": true, "US": true, "CA": true, "AU": true, "NZ": true, "JP": true, "IN": true, "ZA": true, "MA": true,
}

// dialOut00 are the fast regions whose international prefix is 00
// ("0033 6 12 34 56 78" dialled from France); the others dial out with
// 011 (NANP), 0011 (Australia) or 010 (Japan), and there a number
// written with 00 is a national one. TestDialOut00 asks libphonenumber.
var dialOut00 = map[string]bool{
	"FR": true, "DE": true, "GB": true, "IE": true, "ES": true, "PT": true, "IT": true, "NL": true, "BE": true,
	"LU": true, "CH": true, "AT": true, "DK": true, "SE": true, "NO": true, "FI": true, "PL": true, "CZ": true,
	"GR": true, "NZ": true, "IN": true, "ZA": true, "MA": true,
}

// fastParse reads the forms most numbers are written in without
// libphonenumber's regular expressions, which take ~20 µs a number (a
// catch-up load normalises hundreds of thousands): digits and separators
// only, after a + (or 00 where one dials out with 00) or as a national
// number whose trunk prefix is dropped.
// The caller keeps the result only when fastCheck decides it (valid, or
// kept as a possible number) and parses anything else the full way, so
// the fast path never changes an answer (a test compares both on every
// region's example numbers).
func fastParse(s, region string) *phonenumbers.PhoneNumber {
	var buf [17]byte
	d := buf[:0]
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if len(d) == cap(d) {
				return nil
			}
			d = append(d, byte(r))
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '(' || r == ')':
		default:
			return nil
		}
	}
	digits := string(d)
	if !plus && strings.HasPrefix(digits, "00") && dialOut00[region] {
		plus, digits = true, digits[2:]
	}
	var cc int
	var nsn string
	switch {
	case plus && strings.HasPrefix(digits, "0"):
		return nil // no country code starts with 0 (libphonenumber refuses the number)
	case plus:
		for l := 1; l <= 3 && l < len(digits); l++ {
			c, _ := strconv.Atoi(digits[:l])
			if r := phonenumbers.GetRegionCodeForCountryCode(c); r != phonenumbers.UNKNOWN_REGION {
				if !fastRegions[r] {
					return nil
				}
				cc, nsn = c, digits[l:]
				break
			}
		}
	case strings.HasPrefix(digits, "00") || !fastRegions[region]:
		return nil // an international prefix (regions dial out differently), or a region parsed the full way
	default:
		cc, nsn = phonenumbers.GetCountryCodeForRegion(region), digits
		if ndd := phonenumbers.GetNddPrefixForRegion(region, true); ndd != "" {
			nsn = strings.TrimPrefix(nsn, ndd)
		}
	}
	if cc == 0 || len(nsn) < 2 {
		return nil
	}
	v, err := strconv.ParseUint(nsn, 10, 64)
	if err != nil {
		return nil
	}
	c32 := int32(cc)
	n := &phonenumbers.PhoneNumber{CountryCode: &c32, NationalNumber: &v}
	if nsn[0] == '0' { // Italy: the leading zeros are part of the number
		t := true
		z := int32(1)
		for int(z) < len(nsn)-1 && nsn[z] == '0' {
			z++
		}
		n.ItalianLeadingZero, n.NumberOfLeadingZeros = &t, &z
	}
	return n
}

// fastCheck says whether a number the fast path read is valid, or else
// kept all the same by E164 (a possible length, a significant number not
// starting with 0): then the full parse would read it the same way
// (TestFastPathAgreesWithParse), and is not needed. Otherwise it decides.
func fastCheck(n *phonenumbers.PhoneNumber) (valid, kept bool) {
	if validNumber(n) {
		return true, false
	}
	return false, phonenumbers.IsPossibleNumberWithReason(n) == phonenumbers.IS_POSSIBLE &&
		!strings.HasPrefix(phonenumbers.GetNationalSignificantNumber(n), "0")
}

func isLetter(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

func internationalPrefix(s string) bool {
	return strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
}

// NationalDigits returns the national significant number of an E.164
// number: the digits present in every way of writing it ("664356342" for
// +33664356342 written 06.64.35.63.42, +33 6 64 35 63 42 or 0033664356342).
// "" when e164 does not parse.
func NationalDigits(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetNationalSignificantNumber(n)
}

// ValidRegion reports whether region is a country libphonenumber knows.
func ValidRegion(region string) bool {
	return phonenumbers.GetSupportedRegions()[strings.ToUpper(region)]
}

// Normalizer is E164 for one default region, remembering its answers:
// extracts repeat numbers, often written differently (one customer's CRM
// updates, consent and call-centre files), and libphonenumber's checks
// are the costly part. Numbers the fast path reads are remembered as
// numbers, so "06 12 34 56 78" and "0033 6 12 34 56 78" are checked once;
// the others as written. Safe for concurrent use.
type Normalizer struct {
	region  string
	numbers sync.Map // numberKey -> its E.164 form, "" when the full parse must decide
	written sync.Map // raw -> E164(raw), "" for not a number
}

// numberKey is what libphonenumber's validity depends on.
type numberKey struct {
	cc, zeros int32
	national  uint64
}

// NewNormalizer returns a normaliser for a default region.
func NewNormalizer(region string) *Normalizer { return &Normalizer{region: strings.ToUpper(region)} }

// E164 is E164(raw, the normaliser's region).
func (z *Normalizer) E164(raw string) (string, bool) {
	if n := fastParse(written(raw), z.region); n != nil {
		k := numberKey{cc: n.GetCountryCode(), national: n.GetNationalNumber()}
		if n.GetItalianLeadingZero() {
			k.zeros = n.GetNumberOfLeadingZeros()
		}
		v, ok := z.numbers.Load(k)
		if !ok {
			e := ""
			if valid, kept := fastCheck(n); valid || kept {
				e = phonenumbers.Format(n, phonenumbers.E164)
			}
			v, _ = z.numbers.LoadOrStore(k, e)
		}
		if e := v.(string); e != "" {
			return e, true
		}
		// The fast path cannot tell: the full parse decides, as in E164.
	}
	if v, ok := z.written.Load(raw); ok {
		s := v.(string)
		return s, s != ""
	}
	s, _ := E164(raw, z.region)
	z.written.Store(raw, s)
	return s, s != ""
}
