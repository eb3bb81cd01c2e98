package phone

import (
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestValidNumberAgrees: validNumber answers as phonenumbers.IsValidNumber
// for every calling code the library knows (regions and non-geographical
// entities), on each region's example numbers of every type and their
// neighbours, and on random national numbers of 1 to 17 digits, with and
// without Italian leading zeros.
func TestValidNumberAgrees(t *testing.T) {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	var numbers []*phonenumbers.PhoneNumber
	add := func(cc int32, national uint64, zeros int32) {
		n := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national}
		if zeros > 0 {
			yes := true
			n.ItalianLeadingZero, n.NumberOfLeadingZeros = &yes, &zeros
		}
		numbers = append(numbers, n)
	}
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range types {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			v := ex.GetNationalNumber()
			for k := uint64(0); k < 40; k++ {
				// The last four digits varied (mostly valid), one digit
				// less or more (mostly not).
				add(ex.GetCountryCode(), v/10000*10000+(v+k*3779)%10000, ex.GetNumberOfLeadingZeros())
				add(ex.GetCountryCode(), v/10+k, 0)
				add(ex.GetCountryCode(), v*10+k%10, 0)
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if ex := phonenumbers.GetExampleNumberForNonGeoEntity(cc); ex != nil {
			add(ex.GetCountryCode(), ex.GetNationalNumber(), 0)
			add(ex.GetCountryCode(), ex.GetNationalNumber()+1, 0)
		}
	}
	// Calling codes from 1 to 999, known or not, with random numbers.
	rng := rand.New(rand.NewPCG(7, 21))
	for cc := int32(1); cc < 1000; cc++ {
		for digits := 1; digits <= 17; digits++ {
			for k := 0; k < 6; k++ {
				v := uint64(0)
				for range digits {
					v = v*10 + uint64(rng.IntN(10))
				}
				add(cc, v, int32(rng.IntN(3)))
			}
		}
	}
	valid := 0
	for _, n := range numbers {
		want := phonenumbers.IsValidNumber(n)
		if got := validNumber(n); got != want {
			t.Errorf("+%d %s (leading zeros %d): validNumber %v, IsValidNumber %v",
				n.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(n), n.GetNumberOfLeadingZeros(), got, want)
		}
		if want {
			valid++
		}
	}
	if len(numbers) < 100000 || valid < 5000 {
		t.Fatalf("%d numbers compared, %d valid: too few to tell", len(numbers), valid)
	}
	t.Logf("%d numbers compared, %d valid", len(numbers), valid)
}
