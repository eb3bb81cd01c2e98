// Package normalize turns cleartext identifiers into the exact strings ad
// platforms hash for matching (each platform publishes its own rules; each
// function cites them) and hashes them with SHA-256. A value that already
// is a SHA-256 hex digest is recognised and passed through, never hashed
// twice.
package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SHA256Hex is the lowercase hex SHA-256 of s.
func SHA256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// IsSHA256Hex reports whether s (surrounding whitespace aside) is 64 hex
// digits, in either case: a value hashed upstream.
func IsSHA256Hex(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Hash normalises raw with norm and returns the SHA-256 hex of the result;
// a raw value that already is a digest comes back lowercased, unhashed.
func Hash(raw string, norm func(string) (string, error)) (string, error) {
	if IsSHA256Hex(raw) {
		return strings.ToLower(strings.TrimSpace(raw)), nil
	}
	n, err := norm(raw)
	if err != nil {
		return "", err
	}
	return SHA256Hex(n), nil
}

// Error is a normalisation failure class; errors.Is(err, ErrInvalidPhone)
// and the like tell them apart. (A string type, so the sentinels can be
// constants.)
type Error string

// Error implements error.
func (e Error) Error() string { return string(e) }

// Failure classes.
const (
	ErrInvalidEmail   Error = "invalid email"
	ErrInvalidPhone   Error = "invalid phone"
	ErrInvalidName    Error = "invalid name"
	ErrInvalidCountry Error = "invalid country"
	ErrInvalidPostal  Error = "invalid postal code"
)
