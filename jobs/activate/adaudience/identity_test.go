package adaudience

import (
	"testing"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// TestWithCountry: a member's own country is what its phone and address
// are read in; the destination's default fills in only when it has none.
func TestWithCountry(t *testing.T) {
	tests := []struct{ member, def, want string }{
		{"DE", "FR", "DE"},
		{" gb ", "FR", "GB"},
		{"", "FR", "FR"},
		{"", "", ""},
	}
	for _, tt := range tests {
		m := withCountry(delivery.Member{Key: "k", CountryCode: tt.member}, tt.def)
		if m.CountryCode != tt.want {
			t.Errorf("withCountry(%q, default %q).CountryCode = %q, want %q", tt.member, tt.def, m.CountryCode, tt.want)
		}
		if got := phoneCountry(tt.member, tt.def); got != tt.want {
			t.Errorf("phoneCountry(%q, %q) = %q, want %q", tt.member, tt.def, got, tt.want)
		}
	}
}
