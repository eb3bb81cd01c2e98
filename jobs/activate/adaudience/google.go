package adaudience

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/parcours/parcours/jobs/activate/delivery"
	"github.com/parcours/parcours/jobs/activate/normalize"
)

// Google Customer Match goes through the Data Manager API (datamanager.go).
// The Google Ads API path (OfflineUserDataJobService) was removed: since
// 1 April 2026 it refuses Customer Match uploads from developer tokens not
// already allowlisted (CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE).
//
// This file holds what does not depend on the API: Google's
// normalisation and hashing of a member's identifiers.

// The JSON shapes of Data Manager's UserData (UserIdentifier,
// AddressInfo): hashed values hex-encoded (encoding HEX).
type (
	dmAddress struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
		RegionCode string `json:"regionCode"`
		PostalCode string `json:"postalCode"`
	}
	dmIdentifier struct {
		EmailAddress string     `json:"emailAddress,omitempty"`
		PhoneNumber  string     `json:"phoneNumber,omitempty"`
		Address      *dmAddress `json:"address,omitempty"`
	}
	dmUserData struct {
		UserIdentifiers []dmIdentifier `json:"userIdentifiers"`
	}
)

// googleUserData hashes a member's identifiers by Google's rules: email
// (trimmed, lowercased, Gmail dots removed), phone (E.164), and the
// address (hashed given and family name, region and postal code in clear)
// when all four parts are there. A member needs an email or a phone. It
// returns the member's remote id too.
func googleUserData(m delivery.Member, defaultCountry string) (dmUserData, string, error) {
	if m.Email == "" && m.Phone == "" && m.RemoteID != "" {
		p, d, err := parseRemoteID(m.RemoteID)
		if err != nil {
			return dmUserData{}, "", err
		}
		if p == emailPrefix {
			return dmUserData{UserIdentifiers: []dmIdentifier{{EmailAddress: d}}}, p + d, nil
		}
		return dmUserData{UserIdentifiers: []dmIdentifier{{PhoneNumber: d}}}, p + d, nil
	}
	m = withCountry(m, defaultCountry) // the address reads in it too
	var ud dmUserData
	var email, phone string
	var errs []error
	if m.Email != "" {
		h, err := normalize.Hash(m.Email, normalize.GoogleEmail)
		if err != nil {
			errs = append(errs, err)
		} else {
			email = h
			ud.UserIdentifiers = append(ud.UserIdentifiers, dmIdentifier{EmailAddress: h})
		}
	}
	if m.Phone != "" {
		country := phoneCountry(m.CountryCode, defaultCountry)
		h, err := normalize.Hash(m.Phone, func(s string) (string, error) { return normalize.GooglePhone(s, country) })
		if err != nil {
			errs = append(errs, err)
		} else {
			phone = h
			ud.UserIdentifiers = append(ud.UserIdentifiers, dmIdentifier{PhoneNumber: h})
		}
	}
	if email == "" && phone == "" {
		errs = append(errs, errors.New("no usable email or phone"))
		return dmUserData{}, "", errors.Join(errs...)
	}
	if a, ok := googleAddressOf(m); ok {
		ud.UserIdentifiers = append(ud.UserIdentifiers, dmIdentifier{Address: &a})
	}
	return ud, remoteID(email, phone), nil
}

// googleAddressOf is the member's address identifier, when complete and
// valid (Google matches an address only on all four parts).
func googleAddressOf(m delivery.Member) (dmAddress, bool) {
	if m.FirstName == "" || m.LastName == "" || m.CountryCode == "" || m.PostalCode == "" {
		return dmAddress{}, false
	}
	fn, err1 := normalize.Hash(m.FirstName, normalize.GoogleName)
	ln, err2 := normalize.Hash(m.LastName, normalize.GoogleName)
	cc, err3 := normalize.Country(m.CountryCode)
	pc, err4 := normalize.GooglePostal(m.PostalCode)
	if errors.Join(err1, err2, err3, err4) != nil {
		return dmAddress{}, false
	}
	return dmAddress{GivenName: fn, FamilyName: ln, RegionCode: cc, PostalCode: pc}, true
}

// marshal is json.Marshal without HTML escaping (the bytes are sent, not
// embedded in HTML) and without the trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
