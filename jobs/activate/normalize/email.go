package normalize

import (
	"fmt"
	"strings"
	"unicode"
)

// Email trims surrounding whitespace and lowercases, the rule both Google
// ("Remove leading and trailing whitespaces. Convert the text to
// lowercase." — developers.google.com/google-ads/api/docs/remarketing/
// audience-types/customer-match) and Meta ("Trim leading and trailing white
// space and convert all characters to lowercase" — Marketing API, Customer
// File Custom Audiences, Hashing and Normalizing Data) publish. It also
// checks the shape: one '@', a local part, a dotted domain, no whitespace.
// Errors never quote the address: they end up in reports and logs.
func Email(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@"):
		return "", fmt.Errorf("%w: want one '@' between a local part and a domain", ErrInvalidEmail)
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", fmt.Errorf("%w: domain is not a dotted host name", ErrInvalidEmail)
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "", fmt.Errorf("%w: whitespace inside", ErrInvalidEmail)
	}
	return s, nil
}

// GoogleEmail is Google's email_address rule (Data Manager API, "Format
// user data", UserData requirements, email_address —
// developers.google.com/data-manager/api/devguides/concepts/formatting):
// lowercase; trim leading, trailing and intermediate whitespace; for
// gmail.com and googlemail.com "remove all dots (.) before the @ symbol"
// and "remove the plus sign (+) from the local part and all characters
// that follow it" (cloudy.sanfrancisco+shopping@gmail.com →
// cloudysanfrancisco@gmail.com); other domains keep their dots and plus
// signs (user.name+NYC@Example.com → user.name+nyc@example.com). Gmail
// itself delivers all those forms to one inbox, so they must hash alike.
func GoogleEmail(raw string) (string, error) {
	s, err := Email(strings.Join(strings.Fields(raw), ""))
	if err != nil {
		return "", err
	}
	local, domain, _ := strings.Cut(s, "@")
	if domain == "gmail.com" || domain == "googlemail.com" {
		local, _, _ = strings.Cut(local, "+")
		local = strings.ReplaceAll(local, ".", "")
		if local == "" {
			return "", fmt.Errorf("%w: nothing before the domain but dots or a +tag", ErrInvalidEmail)
		}
		s = local + "@" + domain
	}
	return s, nil
}

// MetaEmail is Meta's rule for EMAIL: trimmed and lowercased (see Email).
// Meta publishes no Gmail rule: dots and +tags stay.
func MetaEmail(raw string) (string, error) { return Email(raw) }
