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
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, false, errors.New("empty")
	}
	if strings.IndexFunc(s, isLetter) >= 0 {
		return nil, false, errors.New("letters (an extension?)")
	}
	// "+33 (0)6 ...": the trunk 0 some write after the country code.
	s = strings.ReplaceAll(s, "(0)", "")
	region = strings.ToUpper(region)
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		if !internationalPrefix(s) && !ValidRegion(region) {
			return nil, false, fmt.Errorf("no country code, and the default region %q is not a country", region)
		}
		return nil, false, errors.New("not a phone number")
	}
	if phonenumbers.IsValidNumber(n) {
		return n, true, nil
	}
	// "+33 06 12 34 56 78": the trunk 0 written after the country code.
	if nsn := phonenumbers.GetNationalSignificantNumber(n); strings.HasPrefix(nsn, "0") && internationalPrefix(s) {
		if m, err := phonenumbers.Parse("+"+strconv.Itoa(int(n.GetCountryCode()))+nsn[1:], region); err == nil && phonenumbers.IsValidNumber(m) {
			return m, true, nil
		}
	}
	return n, false, nil
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

// Normalizer is E164 for one default region with a cache: extracts repeat
// the same numbers, and parsing is the costly part. Safe for concurrent use.
type Normalizer struct {
	region string
	cache  sync.Map // raw -> string ("" for not a number)
}

// NewNormalizer returns a normaliser for a default region.
func NewNormalizer(region string) *Normalizer { return &Normalizer{region: strings.ToUpper(region)} }

// E164 is E164(raw, the normaliser's region), cached.
func (z *Normalizer) E164(raw string) (string, bool) {
	if v, ok := z.cache.Load(raw); ok {
		s := v.(string)
		return s, s != ""
	}
	s, _ := E164(raw, z.region)
	z.cache.Store(raw, s)
	return s, s != ""
}
