package report

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// dash stands for a value that is not there (NULL, NaN, no row).
const dash = "—"

// groupThousands inserts commas between groups of three digits of the
// integer part of a formatted number ("-1234567.5" -> "-1,234,567.5").
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		sign, s = s[:1], s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	if len(intPart) <= 3 {
		return sign + intPart + frac
	}
	var b strings.Builder
	head := len(intPart) % 3
	if head > 0 {
		b.WriteString(intPart[:head])
	}
	for i := head; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	return sign + b.String() + frac
}

// fmtNumber renders v with the given decimals and thousands separators.
func fmtNumber(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if s == "-0" || strings.HasPrefix(s, "-0.") && strings.Trim(s[3:], "0") == "" {
		s = s[1:] // no "-0.0" from a tiny negative rounding to zero
	}
	return groupThousands(s)
}

// fmtInt renders a count with thousands separators.
func fmtInt(n int64) string { return groupThousands(strconv.FormatInt(n, 10)) }

// fmtPercent renders a fraction (0..1) as a percentage.
func fmtPercent(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return fmtNumber(100*v, decimals) + "%"
}

// fmtSigned renders v with an explicit sign, for changes.
func fmtSigned(v float64, decimals int, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	s := fmtNumber(v, decimals)
	if s != dash && !strings.HasPrefix(s, "-") && strings.Trim(s, "0.,") != "" {
		s = "+" + s
	}
	return s + unit
}

// fmtRaw renders a number for a data-* attribute: the shortest exact form,
// so tests and scripts can read back the very value the tile shows.
func fmtRaw(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// fmtTick renders an axis tick value compactly: 1.2M, 35k, 0.25.
func fmtTick(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return trimFloat(v/1e6) + "M"
	case a >= 1e4:
		return trimFloat(v/1e3) + "k"
	default:
		return trimFloat(v)
	}
}

// trimFloat renders v with at most 6 significant digits and no trailing
// zeros, which hides binary rounding noise such as 0.30000000000000004.
func trimFloat(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// fmtDate renders a day as YYYY-MM-DD.
func fmtDate(t time.Time) string { return t.Format(time.DateOnly) }

// fmtMonth renders a month as "May 2026".
func fmtMonth(t time.Time) string { return t.Format("January 2006") }

// dayOf truncates t to its calendar day in UTC (logical dates are UTC
// midnights).
func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// monthOf is the first day of t's month.
func monthOf(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// slug turns a name into a token for attributes: lower case letters and
// digits, other runs as one hyphen.
func slug(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			hyphen = false
		} else if !hyphen && b.Len() > 0 {
			b.WriteByte('-')
			hyphen = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// currencySymbols are the codes written as a symbol before the amount;
// other codes follow it ("1,234.50 SEK").
var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}

// fmtMoney renders an amount in cur (ISO 4217; "" for a plain number).
func fmtMoney(v float64, decimals int, cur string) string {
	s := fmtNumber(v, decimals)
	if s == dash || cur == "" {
		return s
	}
	if sym, ok := currencySymbols[cur]; ok {
		if rest, neg := strings.CutPrefix(s, "-"); neg {
			return "-" + sym + rest
		}
		return sym + s
	}
	return s + " " + cur
}

// labels are the words a person reads for the names the warehouse keeps
// (channels, models, purposes, tables, actions).
var labels = map[string]string{
	"paid_search": "Paid search", "organic_search": "Organic search", "call_center": "Call centre",
	"other_campaign": "Other campaigns", "(unattributed)": "Unattributed (no touch)", "other channels": "Other channels (under k)",
	"first_touch": "First touch", "last_touch": "Last touch", "time_decay": "Time decay", "position_based": "Position-based",
	"markov_order_1": "Markov order 1", "markov_order_2": "Markov order 2", "markov_order_3": "Markov order 3",
	"shapley_additive": "Shapley (additive)", "touch_hazard": "Touch hazard",
	"marketing_email": "Marketing email", "marketing_sms": "Marketing SMS", "marketing_ads": "Advertising",
	"consent_purge": "Consent purge", "retention_purge": "Retention purge",
	"rfm": "RFM", "micro": "Micro-segments", "value_risk": "Value and risk", "propensity": "Propensity",
}

// label is the name a person reads for a warehouse name: a known label,
// else the name with words for underscores and a capital first letter.
func label(name string) string {
	if l, ok := labels[name]; ok {
		return l
	}
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}
