// Package phone is parcours' one phone normaliser, on libphonenumber's
// rules for every country (github.com/nyaruka/phonenumbers): a number as
// people write it ("06 64 35 63 42", "+33 (0)6 64 35 63 42",
// "0033 664 356 342") becomes its E.164 form (+33664356342), and an E.164
// number gives back the digits that identify it in any written form.
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// E164 returns the E.164 form of raw, a number written in any common way;
// a number without a country code is read in region (ISO 3166 alpha-2).
// ok is false when raw is not a possible phone number.
func E164(raw, region string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
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
