package tcf

import (
	"reflect"
	"testing"
	"time"
)

// The example TC strings the IAB Tech Lab specification ("Consent string
// and vendor list formats v2", and its earlier revisions) publishes. The
// expected fields were read off the strings bit by bit with an independent
// decoder (a few lines of Python over base64url), not by this package.
func TestDecodeSpecExamples(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02 15:04:05.0", s); return d }
	for _, tc := range []struct {
		s         string
		want      Core
		purposes  []int
		interests []int
	}{
		{"CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA",
			Core{Version: 2, Created: day("2025-06-03 00:00:00.0"), Updated: day("2025-06-03 00:00:00.0"), CmpID: 880,
				ConsentLanguage: "EN", VendorListVersion: 48, PolicyVersion: 2, ServiceSpecific: true, PublisherCC: "DE"}, nil, nil},
		{"COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA.IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAFAAECAAAgAAQARAEQAAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw",
			Core{Version: 2, Created: day("2020-02-20 23:57:39.3"), Updated: day("2020-02-20 23:57:39.3"), CmpID: 27,
				ConsentLanguage: "EN", VendorListVersion: 15, PolicyVersion: 2, PublisherCC: "AA"}, []int{1, 2, 3}, nil},
		{"CQNIGUAQNIGUAE1ACADEBbFgAP_gAAAAAAYgKBpV9C7dbWFF8X53aPtkOY0X19BzIsQhBhSBAyAFyBOQ8JQA02E6NASgJiACEAAAoxTBAAFEHABEAQCAQAAEAADsIAwEgAAIIABEgBEQAAJYAAgKCIggEAAIgAIEEgAAmBiAKdLmXUiAgIACCgCQACABAICAAgMABAAIAAIAAAAAwgAAgAJgoAIAAAAAARAIAAAAAAAAAAAAIAAAAAAAAAAAgAAAKHQAYAAgoGMgAwABBQMVABgACCgYiADAAEFAw0AGAAIKBhIAMAAQUDLQAYAAgoGUgAwABBQMlABgACCgZCADAAEFAw.YAAAAAAAA60A",
			Core{Version: 2, Created: day("2025-02-20 00:00:00.0"), Updated: day("2025-02-20 00:00:00.0"), CmpID: 309, CmpVersion: 2,
				ConsentLanguage: "DE", VendorListVersion: 91, PolicyVersion: 5, ServiceSpecific: true, PublisherCC: "DE"},
			[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, nil},
		{"CQNIGUAQNIGUAA4ACAFRBdFgALAAAAEgAAIgKRwBYAFgAbABgAGQCmgOHgpECkYBEQA4AFAAWAEUARAAAAAA",
			Core{Version: 2, Created: day("2025-02-20 00:00:00.0"), Updated: day("2025-02-20 00:00:00.0"), CmpID: 56, CmpVersion: 2,
				ConsentLanguage: "FR", VendorListVersion: 93, PolicyVersion: 5, ServiceSpecific: true, PublisherCC: "BE"},
			[]int{1, 3, 4}, []int{8, 11}},
	} {
		got, err := Decode(tc.s)
		if err != nil {
			t.Fatalf("%s: %v", tc.s[:20], err)
		}
		tc.want.Purposes, tc.want.LegitimateInterests = tc.purposes, tc.interests
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.s[:20], got, tc.want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, s := range []string{"", "hello", "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA", "CQSbk4A", "!!!not base64"} {
		if _, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) accepted", s)
		}
	}
}
