package normalize

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/phone/phonetest"
)

// rules maps a vector's rule name to the function under test.
func rules(country string) map[string]func(string) (string, error) {
	return map[string]func(string) (string, error){
		"google_email":  GoogleEmail,
		"meta_email":    MetaEmail,
		"google_phone":  func(s string) (string, error) { return GooglePhone(s, country) },
		"meta_phone":    func(s string) (string, error) { return MetaPhone(s, country) },
		"google_name":   GoogleName,
		"meta_name":     MetaName,
		"meta_zip":      func(s string) (string, error) { return MetaZip(s, country) },
		"meta_country":  MetaCountry,
		"country":       Country,
		"google_postal": GooglePostal,
	}
}

type vector struct {
	line                                     int
	rule, country, input, normalised, sha256 string
}

// region is the country a vector's rule reads its input in: "DE/FR" is a
// member in DE sent to a destination whose default is FR; "FR" is a
// member without a country.
func (v vector) region() string {
	member, def, ok := strings.Cut(v.country, "/")
	if !ok {
		member, def = "", v.country
	}
	return Region(member, def)
}

func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("vectors.tsv:%d: %d fields, want 5", n, len(f))
		}
		out = append(out, vector{n, f[0], f[1], f[2], f[3], f[4]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 40 {
		t.Fatalf("only %d vectors read", len(out))
	}
	return out
}

func TestGoldenVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		fn, ok := rules(v.region())[v.rule]
		if !ok {
			t.Errorf("line %d: unknown rule %q", v.line, v.rule)
			continue
		}
		switch v.normalised {
		case "!error":
			if got, err := fn(v.input); err == nil {
				t.Errorf("line %d: %s(%q, %s) = %q, want an error", v.line, v.rule, v.input, v.country, got)
			}
			if _, err := Hash(v.input, fn); err == nil {
				t.Errorf("line %d: Hash accepted %q", v.line, v.input)
			}
		case "<prehashed>":
			got, err := Hash(v.input, fn)
			if err != nil || got != v.sha256 {
				t.Errorf("line %d: Hash(%q) = %q, %v; want %q passed through", v.line, v.input, got, err, v.sha256)
			}
		default:
			got, err := fn(v.input)
			if err != nil || got != v.normalised {
				t.Errorf("line %d: %s(%q, %s) = %q, %v; want %q", v.line, v.rule, v.input, v.country, got, err, v.normalised)
				continue
			}
			if v.sha256 == "-" {
				continue
			}
			h, err := Hash(v.input, fn)
			if err != nil || h != v.sha256 {
				t.Errorf("line %d: Hash(%q) = %q, %v; want %q", v.line, v.input, h, err, v.sha256)
			}
		}
	}
}

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Error
	}{
		{"phone", func() error { _, err := Phone("12", "FR"); return err }(), ErrInvalidPhone},
		{"email", func() error { _, err := Email("x"); return err }(), ErrInvalidEmail},
		{"name", func() error { _, err := MetaName("!!"); return err }(), ErrInvalidName},
		{"country", func() error { _, err := Country("FRA"); return err }(), ErrInvalidCountry},
		{"zip", func() error { _, err := MetaZip(" ", "FR"); return err }(), ErrInvalidPostal},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v is not %v", tt.name, tt.err, tt.want)
		}
	}
}

func TestIsSHA256Hex(t *testing.T) {
	digest := "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"
	tests := []struct {
		in   string
		want bool
	}{
		{digest, true},
		{strings.ToUpper(digest), true},
		{" " + digest + "\n", true},
		{digest[:63], false},
		{digest + "0", false},
		{digest[:63] + "g", false},
		{"john.doe@example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSHA256Hex(tt.in); got != tt.want {
			t.Errorf("IsSHA256Hex(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestHashNotTwice: hashing the output of Hash again must give it back,
// so a digest stored upstream and one made here never differ.
func TestHashNotTwice(t *testing.T) {
	first, err := Hash("John.Doe@Example.com", GoogleEmail)
	if err != nil {
		t.Fatal(err)
	}
	// printf %s john.doe@example.com | sha256sum
	if want := "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"; first != want {
		t.Fatalf("Hash = %s, want %s", first, want)
	}
	again, err := Hash(first, GoogleEmail)
	if err != nil || again != first {
		t.Fatalf("Hash(Hash(x)) = %q, %v; want %q", again, err, first)
	}
}

// Activation normalises phones as ingest does: the shared golden vectors
// of every country.
func TestPhoneGoldenVectors(t *testing.T) {
	vs, err := phonetest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		got, err := GooglePhone(v.Input, v.Region)
		if v.E164 == phonetest.Invalid {
			if err == nil || !errors.Is(err, ErrInvalidPhone) {
				t.Errorf("line %d: GooglePhone(%q, %s) = %q, %v; want ErrInvalidPhone", v.Line, v.Input, v.Region, got, err)
			}
			continue
		}
		if err != nil || got != v.E164 {
			t.Errorf("line %d: GooglePhone(%q, %s) = %q, %v; want %s", v.Line, v.Input, v.Region, got, err, v.E164)
		}
		if meta, err := MetaPhone(v.Input, v.Region); err != nil || meta != v.E164[1:] {
			t.Errorf("line %d: MetaPhone(%q, %s) = %q, %v", v.Line, v.Input, v.Region, meta, err)
		}
	}
}

// TestRegion: the member's own country wins over the destination's
// default, which is only the fallback.
func TestRegion(t *testing.T) {
	tests := []struct{ member, def, want string }{
		{"DE", "FR", "DE"},
		{" de ", "FR", "DE"},
		{"", "FR", "FR"},
		{"  ", "fr", "FR"},
		{"", "", ""},
		// A malformed member country stays the member's: national numbers
		// are then refused, not read in the default.
		{"Germany", "FR", "GERMANY"},
	}
	for _, tt := range tests {
		if got := Region(tt.member, tt.def); got != tt.want {
			t.Errorf("Region(%q, %q) = %q, want %q", tt.member, tt.def, got, tt.want)
		}
	}
	if _, err := GooglePhone("030 1234567", Region("Germany", "FR")); err == nil {
		t.Error("a national number read in a malformed member country was accepted")
	}
}

// TestErrorsQuoteNoInput: normalisation errors reach plan reports and
// logs, so they must not carry the personal data they refused.
func TestErrorsQuoteNoInput(t *testing.T) {
	tests := []struct {
		name, raw string
		fn        func(string) (string, error)
	}{
		{"email shape", "jane.secret-at-example.com", GoogleEmail},
		{"email domain", "jane.secret@nodot", MetaEmail},
		{"email space", "jane secret@example.com", MetaEmail},
		{"gmail tag only", "+secret@gmail.com", GoogleEmail},
		{"google name", "!!--!!", GoogleName},
		{"meta name", "1234", MetaName},
		{"country", "Secretland", Country},
		{"us zip", "9410secret", func(s string) (string, error) { return MetaZip(s, "US") }},
		{"uk postcode", "SECRETPOSTCODE", func(s string) (string, error) { return MetaZip(s, "GB") }},
		{"phone", "06 12 34 56", func(s string) (string, error) { return GooglePhone(s, "FR") }},
	}
	for _, tt := range tests {
		_, err := tt.fn(tt.raw)
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "secret") || strings.Contains(msg, strings.ToLower(strings.TrimSpace(tt.raw))) {
			t.Errorf("%s: error %q quotes the input", tt.name, err)
		}
	}
}
