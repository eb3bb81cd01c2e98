// Package tcf decodes the core segment of an IAB Transparency & Consent
// Framework v2 consent string (a "TC string"), as consent platforms such
// as Didomi or OneTrust store it: which of the framework's purposes the
// user consented to, on which legitimate interest was not objected to, and
// when the choice was made. Written from the IAB Tech Lab specification
// "Consent string and vendor list formats v2" (The Core String); no Go
// library for it is served by the module proxy here.
package tcf

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Core is the core segment of a TC string.
type Core struct {
	Version           int
	Created, Updated  time.Time // deciseconds in the string
	CmpID, CmpVersion int
	ConsentScreen     int
	ConsentLanguage   string // ISO 639-1, upper case
	VendorListVersion int
	PolicyVersion     int
	ServiceSpecific   bool
	NonStandardTexts  bool
	SpecialFeatures   []int // special feature opt-ins, 1..12
	// Purposes are the purposes (1..24) the user consented to.
	Purposes []int
	// LegitimateInterests are the purposes whose legitimate interest the
	// user was told about and did not object to.
	LegitimateInterests []int
	PurposeOneTreatment bool
	PublisherCC         string
}

// ErrInvalid is a string that is not a TC string of version 2.
var ErrInvalid = errors.New("not a TCF v2 consent string")

// coreBits is the length of the core segment up to the vendor sections.
const coreBits = 213

// Decode reads the core segment of a TC string (segments after the first
// '.' are ignored: vendors, publisher purposes).
func Decode(s string) (Core, error) {
	var c Core
	seg, _, _ := strings.Cut(strings.TrimSpace(s), ".")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return c, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r := bits{b: b}
	if len(b)*8 < coreBits {
		return c, fmt.Errorf("%w: %d bits, the core segment needs %d", ErrInvalid, len(b)*8, coreBits)
	}
	c.Version = r.int(6)
	if c.Version != 2 {
		return c, fmt.Errorf("%w: version %d", ErrInvalid, c.Version)
	}
	c.Created = deci(r.int(36))
	c.Updated = deci(r.int(36))
	c.CmpID = r.int(12)
	c.CmpVersion = r.int(12)
	c.ConsentScreen = r.int(6)
	c.ConsentLanguage = r.letters(2)
	c.VendorListVersion = r.int(12)
	c.PolicyVersion = r.int(6)
	c.ServiceSpecific = r.int(1) == 1
	c.NonStandardTexts = r.int(1) == 1
	c.SpecialFeatures = r.set(12)
	c.Purposes = r.set(24)
	c.LegitimateInterests = r.set(24)
	c.PurposeOneTreatment = r.int(1) == 1
	c.PublisherCC = r.letters(2)
	return c, nil
}

func deci(d int) time.Time { return time.UnixMilli(int64(d) * 100).UTC() }

// bits reads big-endian bit fields, left to right.
type bits struct {
	b   []byte
	pos int
}

func (r *bits) int(n int) int {
	v := 0
	for i := 0; i < n; i++ {
		byteAt, bit := r.pos/8, 7-r.pos%8
		v = v<<1 | int(r.b[byteAt]>>bit&1)
		r.pos++
	}
	return v
}

// set reads n flags and returns the 1-based numbers of those set.
func (r *bits) set(n int) []int {
	var out []int
	for i := 1; i <= n; i++ {
		if r.int(1) == 1 {
			out = append(out, i)
		}
	}
	return out
}

// letters reads two-letter codes stored as 6-bit offsets from 'A'.
func (r *bits) letters(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('A' + r.int(6)))
	}
	return b.String()
}
