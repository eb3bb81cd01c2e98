package vault

import (
	"slices"
	"strings"

	"github.com/parcours/parcours/internal/keys"
)

// NameFingerprint is the keyed fingerprint of a lower-cased name that
// vault.pii keeps beside each subject's sealed names (name_fps): its
// pseudonym as a "name" (pseudonym('name', n) in SQL, the token a shard
// hands the merged audit). The privacy audit looks cold values up among
// them instead of decrypting every subject's names each night (3-4 s at a
// million customers). Like the identifier tokens, they are pseudonyms
// under a key kept outside the database, and they leave with the
// subject's vault row on erasure.
func NameFingerprint(pepper []byte, lowerName string) string {
	return keys.Token(pepper, "name", lowerName)
}

// NameFingerprints are the fingerprints of a subject's names as the audit
// checks them: the first name, the last name and the full name, each
// lower-cased, the empty ones left out. Never nil: vault.pii keeps an
// empty list for a subject without a name (NULL is "not computed yet").
func NameFingerprints(pepper []byte, first, last string) []string {
	out := []string{}
	for _, n := range LowerNames(first, last) {
		out = append(out, NameFingerprint(pepper, n))
	}
	return out
}

// LowerNames are the forms of a subject's names a cold value must not
// take: first, last and "first last", lower-cased, without empty or
// repeated ones.
func LowerNames(first, last string) []string {
	f, l := strings.ToLower(first), strings.ToLower(last)
	var out []string
	for _, n := range []string{f, l, strings.TrimSpace(f + " " + l)} {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// OpenNames decrypts a subject's sealed first and last names (token: the
// subject's hex token); a name not held, or a subject whose data key was
// destroyed, gives "".
func (k *Keystore) OpenNames(token string, first, last []byte) (string, string, error) {
	subj, err := ParseSubject(token)
	if err != nil {
		return "", "", err
	}
	dk, ok, err := k.DataKey(subj, false)
	if err != nil || !ok {
		return "", "", err
	}
	var out [2]string
	for i, f := range []struct {
		field  string
		sealed []byte
	}{{"first_name", first}, {"last_name", last}} {
		if f.sealed == nil {
			continue
		}
		if out[i], err = Open(dk, subj, f.field, f.sealed); err != nil {
			return "", "", err
		}
	}
	return out[0], out[1], nil
}
