package draft

import (
	"regexp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/parcours/parcours/internal/phone"
	"github.com/parcours/parcours/internal/tcf"
)

// profile is what a column's sampled values look like.
type profile struct {
	Column
	norm string // the name folded: lower case, no accents, letters and digits only

	email, phone, integer, decimal, commaDecimal, boolean, tc float64 // shares of the values
	iso                                                       float64 // ISO 8601 dates or times
	layout                                                    string  // strptime layout all values share (non-ISO)
	dateOnly                                                  bool    // the layout or ISO values have no time
	epoch                                                     string  // "s" or "ms" when the values are Unix times
	distinct                                                  []string
	unique                                                    bool // no value repeats
	leadingZero                                               bool // some value is a number written with a leading 0
}

var (
	emailRe    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	intRe      = regexp.MustCompile(`^[+-]?[0-9]+$`)
	decRe      = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)
	commaDecRe = regexp.MustCompile(`^[+-]?[0-9]+,[0-9]{1,4}$`)
	isoDate    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	isoTime    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$`)
	foldChars  = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
)

// fold is a name as compared: "Numéro client" is "numeroclient".
func fold(s string) string {
	t, _, err := transform.String(foldChars, s)
	if err != nil {
		t = s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(t) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// layouts are the non-ISO timestamp and date layouts exports use, as
// strptime layouts with the Go layout that reads the same text. Day-first
// and month-first forms are told apart by the values.
var layouts = []struct{ strptime, goLayout string }{
	{"%d/%m/%Y %H:%M:%S", "2/1/2006 15:04:05"},
	{"%m/%d/%Y %H:%M:%S", "1/2/2006 15:04:05"},
	{"%d/%m/%Y %H:%M", "2/1/2006 15:04"},
	{"%m/%d/%Y %H:%M", "1/2/2006 15:04"},
	{"%m/%d/%Y %I:%M %p", "1/2/2006 3:04 PM"},
	{"%m/%d/%Y %I:%M:%S %p", "1/2/2006 3:04:05 PM"},
	{"%d.%m.%Y %H:%M:%S", "2.1.2006 15:04:05"},
	{"%d.%m.%Y %H:%M", "2.1.2006 15:04"},
	{"%d-%m-%Y %H:%M:%S", "2-1-2006 15:04:05"},
	{"%d-%m-%Y %H:%M", "2-1-2006 15:04"},
	{"%Y/%m/%d %H:%M:%S", "2006/1/2 15:04:05"},
	{"%d/%m/%Y", "2/1/2006"},
	{"%m/%d/%Y", "1/2/2006"},
	{"%d.%m.%Y", "2.1.2006"},
	{"%d-%m-%Y", "2-1-2006"},
	{"%Y/%m/%d", "2006/1/2"},
	{"%Y%m%d", "20060102"},
}

// profileOf reads a column's values. monthFirst says how to read dates
// whose day and month both fit (01/02/2026): as the region writes them.
func profileOf(c Column, region string, monthFirst bool) profile {
	p := profile{Column: c, norm: fold(c.Name)}
	n := float64(len(c.Values))
	if n == 0 {
		return p
	}
	seen := map[string]bool{}
	var email, ph, in, dec, cdec, bl, tc, iso int
	dateOnly := true
	for _, v := range c.Values {
		if !seen[v] {
			seen[v] = true
			if len(p.distinct) < 50 {
				p.distinct = append(p.distinct, v)
			}
		}
		if emailRe.MatchString(v) {
			email++
		}
		if intRe.MatchString(v) {
			in++
			if len(v) > 1 && v[0] == '0' {
				p.leadingZero = true
			}
		}
		if decRe.MatchString(v) {
			dec++
		}
		if commaDecRe.MatchString(v) {
			cdec++
		}
		switch strings.ToLower(v) {
		case "true", "false", "yes", "no", "y", "n", "0", "1", "t", "f":
			bl++
		}
		if isoTime.MatchString(v) || isoDate.MatchString(v) {
			iso++
			if !isoDate.MatchString(v) {
				dateOnly = false
			}
		}
		if len(v) > 20 && (v[0] == 'C' || v[0] == 'B') {
			if _, err := tcf.Decode(v); err == nil {
				tc++
			}
		}
		if looksPhone(v) {
			if _, ok := phone.E164(v, region); ok {
				ph++
			}
		}
	}
	p.unique = len(seen) == len(c.Values)
	p.email, p.phone, p.integer, p.decimal, p.commaDecimal = float64(email)/n, float64(ph)/n, float64(in)/n, float64(dec)/n, float64(cdec)/n
	p.boolean, p.tc, p.iso = float64(bl)/n, float64(tc)/n, float64(iso)/n
	if p.iso >= 0.9 {
		p.dateOnly = dateOnly
	}
	if p.integer >= 0.99 {
		if allLen(c.Values, 10) && startsPlausible(c.Values, "1") {
			p.epoch = "s"
		} else if allLen(c.Values, 13) && startsPlausible(c.Values, "1") {
			p.epoch = "ms"
		}
	}
	if p.iso < 0.5 && p.epoch == "" && p.decimal < 0.5 {
		p.layout, p.dateOnly = detectLayout(c.Values, monthFirst)
	}
	return p
}

// looksPhone: written as numbers are ("+33 6 12 34 56 78", "0612345678"),
// not as amounts, ids or times.
func looksPhone(v string) bool {
	if strings.ContainsAny(v, ":@") || isoDate.MatchString(v) || strings.Count(v, "/") > 1 {
		return false
	}
	d := digits(v)
	switch {
	case strings.HasPrefix(v, "+") || strings.HasPrefix(v, "00"):
		return d >= 8
	case v[0] == '0' || v[0] == '(':
		return d >= 9
	}
	return d >= 10 && !decRe.MatchString(v) // 415-555-2671, not 33612345678 (an id?)
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func allLen(vs []string, n int) bool {
	for _, v := range vs {
		if len(v) != n {
			return false
		}
	}
	return true
}

// startsPlausible: Unix times of 2001 to 2033 start with 1.
func startsPlausible(vs []string, prefix string) bool {
	for _, v := range vs {
		if !strings.HasPrefix(v, prefix) {
			return false
		}
	}
	return true
}

// detectLayout finds the layout at least 95% of the values are written
// in, and whether it has no time of day.
func detectLayout(vs []string, monthFirst bool) (string, bool) {
	best, bestN := "", 0
	for _, l := range layouts {
		n := 0
		for _, v := range vs {
			if _, err := time.Parse(l.goLayout, strings.ToUpper(v)); err == nil {
				n++
			}
		}
		// Ties (every day and month 12 or less) go to the region's order.
		better := n > bestN || (n == bestN && n > 0 && monthFirst && strings.HasPrefix(l.strptime, "%m"))
		if better {
			best, bestN = l.strptime, n
		}
	}
	if float64(bestN) < 0.95*float64(len(vs)) {
		return "", false
	}
	return best, !strings.Contains(best, "%H") && !strings.Contains(best, "%I")
}

// money reports whether values are amounts: decimals, with a point or a comma.
func (p profile) money() bool { return p.decimal >= 0.9 || p.commaDecimal >= 0.9 }

// timeLike reports whether values are dates or times.
func (p profile) timeLike() bool { return p.iso >= 0.9 || p.layout != "" || p.epoch != "" }
