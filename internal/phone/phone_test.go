package phone

import (
	"slices"
	"testing"

	"github.com/parcours/parcours/internal/phone/phonetest"
)

func TestE164AndNationalDigits(t *testing.T) {
	for _, tc := range []struct{ raw, region, e164, nsn string }{
		{"06 64 35 63 42", "FR", "+33664356342", "664356342"},
		{"06.64.35.63.42", "FR", "+33664356342", "664356342"},
		{"+33 (0)6 64 35 63 42", "DE", "+33664356342", "664356342"},
		{"0033 664 356 342", "FR", "+33664356342", "664356342"},
		{"030 1234567", "DE", "+49301234567", "301234567"},
		{"(415) 555-2671", "US", "+14155552671", "4155552671"},
		{"07911 123456", "GB", "+447911123456", "7911123456"},
		{"(11) 96123-4567", "BR", "+5511961234567", "11961234567"},
	} {
		got, ok := E164(tc.raw, tc.region)
		if !ok || got != tc.e164 {
			t.Errorf("E164(%q, %s) = %q %v, want %q", tc.raw, tc.region, got, ok, tc.e164)
		}
		if d := NationalDigits(tc.e164); d != tc.nsn {
			t.Errorf("NationalDigits(%s) = %q, want %q", tc.e164, d, tc.nsn)
		}
	}
	for _, bad := range []string{"", "abc", "12"} {
		if got, ok := E164(bad, "FR"); ok {
			t.Errorf("E164(%q) = %q, want not ok", bad, got)
		}
	}
}

// The golden vectors, in the lenient form ingest uses and the strict one
// activation uses: a valid number is the same E.164 in both.
func TestGoldenVectors(t *testing.T) {
	vs, err := phonetest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FR", "DE", "GB", "US", "BR", "IN", "JP", "ES", "IT", "NL", "BE", "CA"} {
		if !slices.Contains(phonetest.Regions(vs), want) {
			t.Errorf("no vector for %s", want)
		}
	}
	for _, v := range vs {
		got, ok := E164(v.Input, v.Region)
		strict, err := Strict(v.Input, v.Region)
		if v.E164 == phonetest.Invalid {
			if ok || err == nil {
				t.Errorf("line %d: %q in %s = %q / strict %q, want invalid", v.Line, v.Input, v.Region, got, strict)
			}
			continue
		}
		if !ok || got != v.E164 {
			t.Errorf("line %d: E164(%q, %s) = %q %v, want %s", v.Line, v.Input, v.Region, got, ok, v.E164)
		}
		if err != nil || strict != v.E164 {
			t.Errorf("line %d: Strict(%q, %s) = %q %v, want %s", v.Line, v.Input, v.Region, strict, err, v.E164)
		}
	}
}
