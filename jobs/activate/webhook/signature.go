package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com) headers.
const (
	// HeaderID is the message id: the same for every attempt and every
	// re-send of one request, so receivers dedupe on it.
	HeaderID = "webhook-id"
	// HeaderTimestamp is the attempt's time, unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature is "v1,<base64 HMAC-SHA256 of id.timestamp.body>"
	// (a space-separated list when several keys sign).
	HeaderSignature = "webhook-signature"
)

// SecretPrefix marks a Standard Webhooks secret: the rest is the key, base64.
const SecretPrefix = "whsec_"

// Tolerance is how far webhook-timestamp may be from the receiver's clock,
// either way: an older request is a replay, a later one a skewed clock.
const Tolerance = 5 * time.Minute

// Verification failures; Verify wraps them, test with errors.Is.
var (
	ErrMissingHeader = errors.New("webhook-id, webhook-timestamp or webhook-signature missing")
	ErrTimestamp     = errors.New("webhook-timestamp outside the tolerance")
	ErrSignature     = errors.New("no matching v1 signature")
)

// Key is the HMAC key of a configured secret. A "whsec_" secret is the
// spec's format: the base64 after the prefix is the key (24 to 64 bytes).
// Any other secret (what parcours used before) is its own bytes, so an
// existing secret keeps working on both sides without rotation.
func Key(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		if secret == "" {
			return nil, errors.New("secret is empty")
		}
		return []byte(secret), nil
	}
	k, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		// The decoder's message would quote part of the secret.
		return nil, errors.New("secret: text after whsec_ is not valid base64")
	}
	if len(k) < 24 || len(k) > 64 {
		return nil, fmt.Errorf("secret: whsec_ key is %d bytes, want 24 to 64", len(k))
	}
	return k, nil
}

// MessageID is the webhook-id of the request with idempotency key key:
// stable across attempts, runs and re-plans of the same batch part. It is
// a hash rather than the key itself because keys may hold '.', which the
// spec forbids in an id (the signed content is dot-delimited).
func MessageID(key string) string {
	h := sha256.Sum256([]byte(key))
	return "msg_" + hex.EncodeToString(h[:16])
}

// Sign is the webhook-signature value of body sent as message id at unix
// time ts: "v1," and the base64 HMAC-SHA256 of "id.ts.body" under key.
func Sign(key []byte, id string, ts int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(ts, 10), body))
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify is the receiver's check of a request carrying body with header:
// the three headers are present, webhook-timestamp is within Tolerance of
// now (either way), and one v1 signature matches the HMAC under secret
// (whsec_ or raw, as Key reads it), compared in constant time. Receivers
// must also dedupe on webhook-id (keep ids at least twice Tolerance): a
// request re-sent within the window is answered as before, not applied
// again. body must be the raw bytes received, before any JSON parsing.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	key, err := Key(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeader
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: not unix seconds", ErrTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: %v from now", ErrTimestamp, -d.Round(time.Second))
	}
	want := mac(key, id, tsText, body)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue // another scheme (v1a) or a malformed entry
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
