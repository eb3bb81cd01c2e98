package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Token is the pseudonymous token of an identifier: hex HMAC-SHA256 under
// the pepper of "type:value". The same function exists in SQL (the
// pseudonym macro, made from HMACPads) so DuckDB can tokenise millions of
// rows without a Go loop.
func Token(pepper []byte, idType, value string) string {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(idType + ":" + value))
	return hex.EncodeToString(m.Sum(nil))
}

// HMACPads returns the pepper's HMAC-SHA256 outer and inner pads, upper
// hex, from which the pseudonym macro (sql/_macros.sql) computes exactly
// Token(pepper, t, v) with SQL primitives:
// sha256(K^opad || unhex(sha256(K^ipad || m))). The macro is created per
// connection as a TEMP macro, so the pepper never reaches a database file.
func HMACPads(pepper []byte) (opad, ipad string) {
	const block = 64
	key := pepper
	if len(key) > block {
		s := sha256.Sum256(key)
		key = s[:]
	}
	ipadB := make([]byte, block)
	opadB := make([]byte, block)
	for i := 0; i < block; i++ {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		ipadB[i] = k ^ 0x36
		opadB[i] = k ^ 0x5c
	}
	return strings.ToUpper(hex.EncodeToString(opadB)), strings.ToUpper(hex.EncodeToString(ipadB))
}
