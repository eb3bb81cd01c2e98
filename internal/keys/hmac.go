package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Token is the pseudonymous token of an identifier: hex HMAC-SHA256 under
// the pepper of "type:value". The same function exists in SQL (see
// TokenMacroSQL) so DuckDB can tokenise millions of rows without a Go loop.
func Token(pepper []byte, idType, value string) string {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(idType + ":" + value))
	return hex.EncodeToString(m.Sum(nil))
}

// TokenMacroSQL returns a temporary DuckDB macro pseudonym(t, v) computing
// exactly Token(pepper, t, v) as HMAC-SHA256 from SQL primitives:
// sha256(K^opad || unhex(sha256(K^ipad || m))). It is created per
// connection as a TEMP macro, so the pepper never reaches a database file.
func TokenMacroSQL(pepper []byte) string {
	const block = 64
	key := pepper
	if len(key) > block {
		s := sha256.Sum256(key)
		key = s[:]
	}
	ipad := make([]byte, block)
	opad := make([]byte, block)
	for i := 0; i < block; i++ {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		ipad[i] = k ^ 0x36
		opad[i] = k ^ 0x5c
	}
	return fmt.Sprintf("CREATE OR REPLACE TEMP MACRO pseudonym(t, v) AS "+
		"CASE WHEN v IS NULL THEN NULL ELSE sha256(unhex('%s') || unhex(sha256(unhex('%s') || encode(t || ':' || v)))) END",
		strings.ToUpper(hex.EncodeToString(opad)), strings.ToUpper(hex.EncodeToString(ipad)))
}
