package normalize

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// GoogleName is Google's rule for a first or last name (hashedFirstName,
// hashedLastName; given_name, family_name):
//   - lowercase, no punctuation, no leading or trailing whitespace (Data
//     Manager API reference, UserData, AddressInfo: "all lowercase, with no
//     punctuation, no leading or trailing whitespace" —
//     developers.google.com/data-manager/api/reference/rest/v1/UserData);
//   - inner whitespace runs made one space (Google Ads API reference,
//     OfflineUserAddressInfo.hashed_first_name: "Remove any extra spaces
//     before, after, and in between");
//   - no prefixes or suffixes (Data Manager API, "Format user data",
//     AddressInfo format: given_name "Don't include prefixes such as Mrs.",
//     family_name "Don't include suffixes such as Jr." —
//     developers.google.com/data-manager/api/devguides/concepts/formatting).
//
// Both are applied to either field, so google.go needs one rule: a leading
// title (honorifics) and trailing generational or degree suffixes are
// dropped, but only while another word remains, so a name is never
// emptied. Accented letters stay (Google's Customer Match data-file
// template lists "zoë", "pérez"), in Unicode NFC so composed and
// decomposed input hash alike.
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
	words := strings.Split(b.String(), " ")
	for len(words) > 1 && namePrefixes[words[0]] {
		words = words[1:]
	}
	for len(words) > 1 && nameSuffixes[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	s := strings.Join(words, " ")
	if s == "" {
		return "", fmt.Errorf("%w: nothing left after normalising", ErrInvalidName)
	}
	return s, nil
}

// namePrefixes are titles Google's "prefixes such as Mrs." covers, written
// as they are left once punctuation is gone ("Mrs." → "mrs"); French
// Mme/Mlle because parcours' customers are largely French. Ambiguous ones
// (a lone "m", "sir", "lady") are left alone: they may be a name or an
// initial.
var namePrefixes = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "miss": true, "mx": true,
	"dr": true, "prof": true, "mme": true, "mlle": true,
}

// nameSuffixes are what Google's "suffixes such as Jr." covers:
// generational suffixes and post-nominal degrees ("Ph.D." → "phd").
var nameSuffixes = map[string]bool{
	"jr": true, "sr": true, "ii": true, "iii": true, "iv": true,
	"phd": true, "md": true, "esq": true,
}

// MetaName is Meta's FN / LN rule: "Use a-z only. Lowercase only, no
// punctuation. Special characters in UTF-8 format." (Marketing API,
// Customer File Custom Audiences, Hashing and Normalizing Data —
// developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences).
// Letters only: spaces, punctuation and digits are dropped; letters
// outside a-z ("special characters") are kept, UTF-8 encoded, in NFC, with
// their combining marks (scripts whose vowels are marks would be mangled
// otherwise).
func MetaName(raw string) (string, error) {
	var b strings.Builder
	for _, r := range norm.NFC.String(strings.ToLower(raw)) {
		if unicode.IsLetter(r) || unicode.IsMark(r) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%w: no letters", ErrInvalidName)
	}
	return b.String(), nil
}

// Country checks an ISO 3166-1 alpha-2 code and returns it uppercased, the
// form Google's addressInfo.countryCode takes (sent unhashed).
func Country(raw string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", fmt.Errorf("%w: want a two-letter ISO 3166-1 code", ErrInvalidCountry)
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
			return "", fmt.Errorf("%w: a US ZIP starts with 5 digits", ErrInvalidPostal)
		}
		s = s[:5]
	case "GB":
		// The inward code is always digit + two letters; dropping the two
		// letters (the unit) leaves area, district and sector.
		if len(s) < 5 || len(s) > 7 {
			return "", fmt.Errorf("%w: not a UK postcode", ErrInvalidPostal)
		}
		s = s[:len(s)-2]
	}
	return s, nil
}
