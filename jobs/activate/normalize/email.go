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
func Email(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@"):
		return "", fmt.Errorf("%w %q: want one '@' between a local part and a domain", ErrInvalidEmail, raw)
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", fmt.Errorf("%w %q: domain %q", ErrInvalidEmail, raw, domain)
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "", fmt.Errorf("%w %q: whitespace inside", ErrInvalidEmail, raw)
	}
	return s, nil
}

// GoogleEmail is Email plus Google's Gmail rule: periods before the domain
// of gmail.com and googlemail.com addresses are removed ("Remove all
// periods (.) that precede the domain name in gmail.com and googlemail.com
// email addresses" — Google Ads API / Campaign Manager 360 enhanced
// conversions, "Normalization and hashing"). Google now says it also
// accepts the dotted form; removing dots is what its own samples do, and
// it makes "j.doe@gmail.com" and "jdoe@gmail.com" one person, as Gmail does.
func GoogleEmail(raw string) (string, error) {
	s, err := Email(raw)
	if err != nil {
		return "", err
	}
	local, domain, _ := strings.Cut(s, "@")
	if domain == "gmail.com" || domain == "googlemail.com" {
		local = strings.ReplaceAll(local, ".", "")
		if local == "" {
			return "", fmt.Errorf("%w %q: nothing before the domain but dots", ErrInvalidEmail, raw)
		}
		s = local + "@" + domain
	}
	return s, nil
}

// MetaEmail is Meta's rule for EMAIL: trimmed and lowercased (see Email).
func MetaEmail(raw string) (string, error) { return Email(raw) }
