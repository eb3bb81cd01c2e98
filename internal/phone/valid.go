package phone

import (
	"regexp"
	"slices"
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
				return true // the region found by its types is valid for them
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
	if len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(nsn))) {
		return false
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

// rules are every region's metadata, each compiled on first use
// (compiling them all costs 30 ms, paid by every process that reads one
// number): by region code, and by calling code for the non-geographical
// entities ("001"). The maps are only read once built.
type rules struct {
	byRegion map[string]*lazyRules
	nonGeo   map[int]*lazyRules
}

// lazyRules is a region's metadata and, once compiled, its rules.
type lazyRules struct {
	m    *phonenumbers.PhoneMetadata
	once sync.Once
	c    *regionRules
}

func (rs *rules) forRegion(cc int, region string) *regionRules {
	l := rs.byRegion[region]
	if region == "001" {
		l = rs.nonGeo[cc]
	}
	if l == nil {
		return nil
	}
	l.once.Do(func() { l.c = compile(l.m) })
	return l.c
}

// compile is one region's metadata as regionRules.
func compile(m *phonenumbers.PhoneMetadata) *regionRules {
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
	return c
}

// compiledRules is the library's metadata as rules, indexed once: constant
// data, like fastRegions.
var compiledRules = sync.OnceValue(func() *rules {
	rs := &rules{byRegion: map[string]*lazyRules{}, nonGeo: map[int]*lazyRules{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		panic(err) // the library's own init parses the same embedded data and panics first
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == "001" {
			rs.nonGeo[int(m.GetCountryCode())] = &lazyRules{m: m}
		} else {
			rs.byRegion[m.GetId()] = &lazyRules{m: m}
		}
	}
	return rs
})
