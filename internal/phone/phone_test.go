package phone

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

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
	for _, bad := range []string{"", "abc", "12", "+01 415 555 2671"} {
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

// The fast path gives the answer libphonenumber's full parse gives, for
// every region it serves: each type's example number with its last
// digits varied, in national, international (with + and with 00) and
// E.164 form, with dots, cut short and padded, read in its region, in
// France and in the US. Where fastCheck decides (a valid number, or one
// E164 keeps as possible), E164 by the full parse must say the same.
func TestFastPathAgreesWithParse(t *testing.T) {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	compared, valid, kept := 0, 0, 0
	for region := range fastRegions {
		for _, typ := range types {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			for k := uint64(0); k < 20; k++ {
				v := ex.GetNationalNumber()/10000*10000 + (ex.GetNationalNumber()+k*3779)%10000
				n := &phonenumbers.PhoneNumber{CountryCode: ex.CountryCode, NationalNumber: &v, ItalianLeadingZero: ex.ItalianLeadingZero}
				for _, f := range []phonenumbers.PhoneNumberFormat{phonenumbers.NATIONAL, phonenumbers.INTERNATIONAL, phonenumbers.E164} {
					w := phonenumbers.Format(n, f)
					forms := []string{w, w + "1", w + "12", w[:len(w)-1], w[:len(w)-2], strings.ReplaceAll(w, " ", ".")}
					if f == phonenumbers.INTERNATIONAL {
						forms = append(forms, "00"+w[1:], "+0"+w[1:])
					}
					for _, s := range forms {
						for _, in := range []string{region, "FR", "US"} {
							compared++
							got := fastParse(written(s), in)
							if got == nil {
								continue
							}
							isValid, isKept := fastCheck(got)
							if !isValid && !isKept {
								continue // the full parse decides
							}
							if isValid {
								valid++
							} else {
								kept++
							}
							fast := phonenumbers.Format(got, phonenumbers.E164)
							full, fullOK := fullE164(s, in)
							if !fullOK || full != fast {
								t.Errorf("%q in %s: fast %s (valid %v), full parse %q %v", s, in, fast, isValid, full, fullOK)
							}
						}
					}
				}
			}
		}
	}
	if compared < 10000 || valid < compared/10 || kept < compared/10 {
		t.Fatalf("%d numbers compared, %d valid and %d kept through the fast path", compared, valid, kept)
	}
}

// fullE164 is E164 without the fast path.
func fullE164(raw, region string) (string, bool) {
	n, valid, err := slowParse(raw, region)
	if err != nil {
		return "", false
	}
	if !valid && (phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE ||
		strings.HasPrefix(phonenumbers.GetNationalSignificantNumber(n), "0")) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// slowParse is parse without the fast path.
func slowParse(raw, region string) (*phonenumbers.PhoneNumber, bool, error) {
	s := strings.ReplaceAll(strings.TrimSpace(raw), "(0)", "")
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return nil, false, err
	}
	if phonenumbers.IsValidNumber(n) {
		return n, true, nil
	}
	if nsn := phonenumbers.GetNationalSignificantNumber(n); strings.HasPrefix(nsn, "0") && internationalPrefix(s) {
		if m, err := phonenumbers.Parse("+"+strconv.Itoa(int(n.GetCountryCode()))+nsn[1:], region); err == nil && phonenumbers.IsValidNumber(m) {
			return m, true, nil
		}
	}
	return n, false, nil
}

// dialOut00 holds exactly the fast regions where libphonenumber reads a
// number written with 00 as an international one.
func TestDialOut00(t *testing.T) {
	for region := range fastRegions {
		n, err := phonenumbers.ParseAndKeepRawInput("0033 6 12 34 56 78", region)
		if err != nil {
			t.Fatalf("%s: %v", region, err)
		}
		idd := n.GetCountryCodeSource() == phonenumbers.PhoneNumber_FROM_NUMBER_WITH_IDD
		if idd != dialOut00[region] {
			t.Errorf("%s: libphonenumber reads 00 as an international prefix: %v, dialOut00 says %v", region, idd, dialOut00[region])
		}
	}
}

// A Normalizer answers as E164, first time and remembered, for numbers
// written in every form, valid or not, the same number in several forms.
func TestNormalizerAgreesWithE164(t *testing.T) {
	vs, err := phonetest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, v := range vs {
		inputs = append(inputs, v.Input)
	}
	inputs = append(inputs, "06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78",
		"+33 06 12 34 56 78", "0612345678", "06 12 34 56 7", "+0033612345678", "00 1 415 555 2671", "(415) 555-2671",
		"", "  ", "abc", "0000000000", "+39 06 1234 5678", "0039 06 1234 5678", "+44 7911 123456", "0044 07911 123456")
	for _, region := range []string{"FR", "US", "IT", "BR", "GB"} {
		z := NewNormalizer(region)
		for pass := 0; pass < 2; pass++ {
			for _, in := range inputs {
				want, wantOK := E164(in, region)
				if got, ok := z.E164(in); got != want || ok != wantOK {
					t.Errorf("pass %d, %q in %s: Normalizer %q %v, E164 %q %v", pass, in, region, got, ok, want, wantOK)
				}
			}
		}
	}
}

// BenchmarkNormalizer is a customer file's phones: distinct mobile
// numbers drawn over 06 and 07 (some in ranges libphonenumber does not
// know, which E164 keeps), a quarter written with 00, the others
// nationally or with +.
func BenchmarkNormalizer(b *testing.B) {
	forms := []string{"0%d %02d %02d %02d %02d", "+33 %d %02d %02d %02d %02d", "0033 %d %02d %02d %02d %02d", "0%d.%02d.%02d.%02d.%02d"}
	inputs := make([]string, 4096)
	for i := range inputs {
		v := 600000000 + i*48271%200000000
		inputs[i] = fmt.Sprintf(forms[i%4], v/100000000, v/1000000%100, v/10000%100, v/100%100, v%100)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		z := NewNormalizer("FR")
		for _, in := range inputs {
			if _, ok := z.E164(in); !ok {
				b.Fatalf("%q: not a number", in)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inputs)), "ns/number")
}

func BenchmarkE164(b *testing.B) {
	inputs := []string{"06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "07.88.99.00.11"}
	for i := 0; i < b.N; i++ {
		E164(inputs[i%len(inputs)], "FR")
	}
}
