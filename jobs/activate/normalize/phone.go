package normalize

import (
	"fmt"

	"github.com/parcours/parcours/internal/phone"
)

// Phone returns the E.164 form of a phone number ("+" then country code and
// significant number, at most 15 digits), the format Google Customer Match
// hashes ("Format phone numbers according to the E.164 standard" — Google
// Ads API, Customer Match), with parcours' one phone normaliser
// (internal/phone, libphonenumber's plans of every country), strictly: a
// number outside its country's plan is an error, not sent. A number
// without a country code is read in defaultCountry (ISO alpha-2):
// "06 12 34 56 78" in FR is +33612345678, "(415) 555-2671" in US is
// +14155552671. International forms are "+44 20 7946 0958", "0044 20 7946
// 0958" (and "011…" from the NANP), with an optional "(0)" after the
// country code. Letters, extensions and impossible lengths are errors.
func Phone(raw, defaultCountry string) (string, error) {
	e, err := phone.Strict(raw, defaultCountry)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidPhone, err)
	}
	return e, nil
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
