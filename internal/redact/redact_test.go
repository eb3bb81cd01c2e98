package redact

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"missing required column customer_id (found: C10000104, benjamin.simon42@gmail.com, 07.99.12.34.56, Benjamin)",
			"missing required column customer_id (found: C10000104, <email>, <number>, Benjamin)"},
		{"bad phone +33 6 64 35 63 42 and 0664356342 and 06-64-35-63-42", "bad phone <number> and <number> and <number>"},
		{"card 4970123412341234 at store S01", "card <number> at store S01"},
		{"Jean.O'Neil+promo@Example.co.uk wrote", "<email> wrote"},
		// Dates, times, run ids, keys, counts and paths are kept.
		{"2026-11-22/crm_customers.csv: line 96", "2026-11-22/crm_customers.csv: line 96"},
		{"no purchases before 2026-11-22 00:00:00+00", "no purchases before 2026-11-22 00:00:00+00"},
		{"run 20261122T103000Z-a1b2c3, key 3f2a9c81234567890abc", "run 20261122T103000Z-a1b2c3, key 3f2a9c81234567890abc"},
		{"12.5% of 4800 rows rejected", "12.5% of 4800 rows rejected"},
		{"CSV Error on Line: 5\nOriginal Line: C1,ann@x.org,Ann\nmore", "CSV Error on Line: 5\nOriginal Line: (not shown)\nmore"},
		{"binary \x1f\x8b\x08\x00 bytes\xff\xfe", "binary  \uFFFD\b\x00 bytes\uFFFD"},
	} {
		got := Text(tc.in)
		if tc.in == "binary \x1f\x8b\x08\x00 bytes\xff\xfe" {
			if strings.ContainsAny(got, "\x00\x1f\x08") || !strings.Contains(got, "\uFFFD") {
				t.Errorf("Text(%q) = %q: control bytes or invalid UTF-8 kept", tc.in, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", MaxLen)
	if got := Text(long); len(got) > MaxLen || !strings.HasSuffix(got, "(cut)") || !strings.HasPrefix(got, "éé") {
		t.Errorf("long text: %d bytes, suffix %q", len(got), got[len(got)-10:])
	}
}
