package phone

import (
	"regexp"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// validNumber is phonenumbers.IsValidNumber on patterns compiled once.
// The library rebuilds each pattern's anchored text and looks it up in a
// locked map on every test, and tests each pattern twice: about 5 µs a
// number, the larger part of ingesting a CRM's phones. The rules are the
// library's, step for step (GetRegionCodeForNumber, then
// IsValidNumberForRegion's getNumberTypeHelper); TestValidNumberAgrees
// compares both on every country's example numbers and on random numbers
// of every length.
func validNumber(n *phonenumbers.PhoneNumber) bool {
	rs := compiledRules()
	cc := int(n.GetCountryCode())
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(regions) == 0 {
		return false
	}
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	var m *regionRules
	if len(regions) == 1 {
		m = rs.forRegion(cc, regions[0])
	} else {
		// getRegionCodeForNumberFromRegionList: the first region whose
		// leading digits match, or, without leading digits, whose types
		// the number matches.
		for _, r := range regions {
			c := rs.forRegion(cc, r)
			if c == nil {
				continue
			}
			if c.leading != nil {
				if c.leading.MatchString(nsn) {
					m = c
					break
				}
			} else if c.valid(nsn) {
				m = c
				break
			}
		}
	}
	return m != nil && m.valid(nsn)
}

// descRule is a PhoneNumberDesc: a national number matches it when its
// length is one of the possible ones (any, when none are listed) and it
// matches the pattern whole.
type descRule struct {
	lengths []int32
	re      *regexp.Regexp
}

func newDesc(d *phonenumbers.PhoneNumberDesc) descRule {
	// A missing description has the empty pattern: it matches only "".
	return descRule{lengths: d.GetPossibleLength(), re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
}

func (d descRule) match(nsn string) bool {
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			if int32(len(nsn)) == l {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return d.re.MatchString(nsn)
}

// regionRules are one region's metadata, compiled.
type regionRules struct {
	leading *regexp.Regexp // the region's leading digits, nil when it has none
	general descRule
	// others are the types tested before the fixed line, in the
	// library's order (premium rate, toll free, shared cost, VoIP,
	// personal, pager, UAN, voicemail).
	others             []descRule
	fixedLine, mobile  descRule
	sameMobileAndFixed bool
}

// valid is getNumberTypeHelper(nsn) != UNKNOWN.
func (c *regionRules) valid(nsn string) bool {
	if !c.general.match(nsn) {
		return false
	}
	for _, d := range c.others {
		if d.match(nsn) {
			return true
		}
	}
	if c.fixedLine.match(nsn) {
		return true
	}
	return !c.sameMobileAndFixed && c.mobile.match(nsn)
}

// rules are every region's compiled metadata: by region code, and by
// calling code for the non-geographical entities ("001").
type rules struct {
	byRegion map[string]*regionRules
	nonGeo   map[int]*regionRules
}

func (rs *rules) forRegion(cc int, region string) *regionRules {
	if region == "001" {
		return rs.nonGeo[cc]
	}
	return rs.byRegion[region]
}

var compiledRules = sync.OnceValue(func() *rules {
	rs := &rules{byRegion: map[string]*regionRules{}, nonGeo: map[int]*regionRules{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		panic(err) // the library's own init parses the same embedded data and panics first
	}
	for _, m := range coll.GetMetadata() {
		c := &regionRules{
			general: newDesc(m.GetGeneralDesc()),
			others: []descRule{newDesc(m.GetPremiumRate()), newDesc(m.GetTollFree()), newDesc(m.GetSharedCost()),
				newDesc(m.GetVoip()), newDesc(m.GetPersonalNumber()), newDesc(m.GetPager()), newDesc(m.GetUan()),
				newDesc(m.GetVoicemail())},
			fixedLine:          newDesc(m.GetFixedLine()),
			mobile:             newDesc(m.GetMobile()),
			sameMobileAndFixed: m.GetSameMobileAndFixedLinePattern(),
		}
		if ld := m.GetLeadingDigits(); ld != "" {
			c.leading = regexp.MustCompile("^(?:" + ld + ")")
		}
		if m.GetId() == "001" {
			rs.nonGeo[int(m.GetCountryCode())] = c
		} else {
			rs.byRegion[m.GetId()] = c
		}
	}
	return rs
})
