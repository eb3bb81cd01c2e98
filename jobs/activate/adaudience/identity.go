// Package adaudience pushes segments to ad platforms' customer-list
// audiences: Google Customer Match (Data Manager API) and Meta
// Custom Audiences (/{audience_id}/users). Identifiers are normalised by
// each platform's published rules (package normalize) and SHA-256 hashed
// before they leave; values already hashed upstream pass through. At most
// 10,000 records go in one request. Base URLs are configuration, so tests
// point them at the fake server; authentication is a bearer token added at
// send time, never written into a planned request.
package adaudience

import (
	"fmt"
	"strings"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/normalize"
)

// MaxPerRequest is the most records one request carries: Meta's limit
// ("up to 10000 at a time"), and Google's recommended operations per
// addOperations call.
const MaxPerRequest = 10000

// Remote ids say which identifier a platform knows a member by: "em:" or
// "ph:" and the SHA-256 hex of the normalised email or phone. Kept in
// ops.sync_state, they let a member be removed after erasure, when the
// cleartext is gone.
const (
	emailPrefix = "em:"
	phonePrefix = "ph:"
)

// parseRemoteID splits a remote id into its kind prefix and digest.
func parseRemoteID(id string) (prefix, digest string, err error) {
	for _, p := range []string{emailPrefix, phonePrefix} {
		if d, ok := strings.CutPrefix(id, p); ok && normalize.IsSHA256Hex(d) {
			return p, strings.ToLower(d), nil
		}
	}
	return "", "", fmt.Errorf("remote id %q: want em:<sha256> or ph:<sha256>", id)
}

// remoteID is the id of a member with these hashed identifiers: its email
// when it has one, else its phone.
func remoteID(email, phone string) string {
	if email != "" {
		return emailPrefix + email
	}
	return phonePrefix + phone
}

// phoneCountry is the numbering plan a member's phone is read in: the
// member's country, else the destination's default (normalize.Region).
func phoneCountry(memberCountry, def string) string {
	return normalize.Region(memberCountry, def)
}

// withCountry is m with the country its phone and address are read in:
// its own, else the destination's default (normalize.Region). Address
// fields need it as much as the phone does (Google's address identifier
// takes a region code; Meta's ZIP rule depends on the country), and
// setting it once keeps phone and address in one country.
func withCountry(m delivery.Member, def string) delivery.Member {
	if c := normalize.Region(m.CountryCode, def); c != "" {
		m.CountryCode = c
	}
	return m
}

// consentGranted is Data Manager's ConsentStatus for granted consent:
// the only state a member is uploaded with.
const consentGranted = "CONSENT_GRANTED"

// Rejection reasons of members excluded at plan time for consent; the
// prefix before ':' is the code a plan counts exclusions by.
const (
	reasonNoAdUserData        = "consent_ad_user_data: ad_user_data consent not granted"
	reasonNoAdPersonalization = "consent_ad_personalization: ad_personalization consent not granted"
)

// consentRefusal says why a member may not be uploaded to a Customer
// Match list ("" when it may): Google needs ad_user_data granted to use
// the data at all, and ad_personalization granted to target with it,
// which is what a Customer Match list is for.
func consentRefusal(m delivery.Member) string {
	switch {
	case !m.AdUserData:
		return reasonNoAdUserData
	case !m.AdPersonalization:
		return reasonNoAdPersonalization
	}
	return ""
}
