package ahocorasick

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestContains(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patterns []string
		text     string
		want     bool
	}{
		{"none", nil, "anything", false},
		{"empty text", []string{"a"}, "", false},
		{"empty pattern matches all", []string{"zz", ""}, "abc", true},
		{"exact", []string{"ann@example.com"}, "ann@example.com", true},
		{"inside", []string{"664356342"}, "r9;0033664356342;store", true},
		{"prefix only", []string{"abcd"}, "xxabc", false},
		// "she" fails over to "he": the match is found through the
		// failure link, not the state the scan is in.
		{"suffix of another path", []string{"hers", "he"}, "ushe", true},
		{"only through failure chain", []string{"bcd", "abce"}, "abcd", true},
		{"restart after mismatch", []string{"aab"}, "aaab", true},
		{"overlap", []string{"abab"}, "aababab", true},
		{"bytes above 127", []string{"é@x"}, "café@x.fr", true},
		{"case matters", []string{"Ann"}, "ann", false},
	} {
		if got := New(tc.patterns).Contains(tc.text); got != tc.want {
			t.Errorf("%s: Contains(%q) with %q = %v, want %v", tc.name, tc.text, tc.patterns, got, tc.want)
		}
	}
}

// The matcher agrees with one strings.Contains per pattern on random
// texts over a small alphabet, where overlaps and shared prefixes abound.
func TestContainsAgreesWithBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Texts also hold a byte no pattern has ('d': the DFA's class 0).
	word := func(n int, alphabet string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for round := 0; round < 300; round++ {
		pats := make([]string, 1+r.IntN(6))
		for i := range pats {
			pats[i] = word(2+r.IntN(5), "abc")
		}
		m := New(pats)
		for k := 0; k < 20; k++ {
			text := word(r.IntN(30), "abcd")
			want := false
			for _, p := range pats {
				want = want || strings.Contains(text, p)
			}
			if got := m.Contains(text); got != want {
				t.Fatalf("patterns %q, text %q: got %v, want %v", pats, text, got, want)
			}
		}
	}
}

// BenchmarkContains measures the erasure scrub's shape: 10,000 patterns,
// 155-byte rows. go test -bench . ./internal/ahocorasick
func BenchmarkContains(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	pats := make([]string, 10000)
	for i := range pats {
		pats[i] = strings.Repeat(string(rune('a'+r.IntN(26))), 2) + "." + string(rune('a'+r.IntN(26))) + "@example.com" + string(rune('0'+i%10))
	}
	m := New(pats)
	row := strings.Repeat("c1,ann,06.64.35.63.42,paris,", 6)[:155]
	b.SetBytes(int64(len(row)))
	for b.Loop() {
		m.Contains(row)
	}
}
