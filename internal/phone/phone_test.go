package phone

import "testing"

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
