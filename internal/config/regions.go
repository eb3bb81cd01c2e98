package config

import "sort"

// region describes how a national phone number is written in one country:
// its calling code and whether national numbers start with a trunk '0'
// that E.164 drops.
type region struct {
	code  string
	trunk bool
}

func regions() map[string]region {
	return map[string]region{
		"FR": {"33", true}, "BE": {"32", true}, "CH": {"41", true}, "DE": {"49", true},
		"GB": {"44", true}, "IE": {"353", true}, "ES": {"34", false}, "IT": {"39", false},
		"NL": {"31", true}, "PT": {"351", false}, "LU": {"352", false}, "AT": {"43", true},
		"US": {"1", false}, "CA": {"1", false},
	}
}

// CallingCode returns the country calling code of a phone region.
func CallingCode(r string) (string, bool) {
	reg, ok := regions()[r]
	return reg.code, ok
}

// HasTrunkPrefix reports whether national numbers of the region start with a 0 to drop.
func HasTrunkPrefix(r string) bool { return regions()[r].trunk }

// Regions lists the supported phone regions.
func Regions() []string {
	var out []string
	for k := range regions() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
