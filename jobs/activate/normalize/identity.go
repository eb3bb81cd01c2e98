package normalize

import "strings"

// Region is the country a member's phone number and postal code are read
// in: the member's own country when it has one, else the destination's
// default. The default is only a guess about where a customer lives: a
// German customer's "030 1234567" read in a French destination's default
// would be refused or, worse, hash as someone else's number.
//
// A member country that is not a valid code is still the member's: it is
// returned (trimmed, uppercased) and the rule using it refuses national
// forms, rather than reading them in the default.
func Region(memberCountry, defaultCountry string) string {
	if c := strings.ToUpper(strings.TrimSpace(memberCountry)); c != "" {
		return c
	}
	return strings.ToUpper(strings.TrimSpace(defaultCountry))
}
