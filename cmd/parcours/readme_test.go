package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// Reference sections of the folder READMEs are the output of a command:
// a contract or configuration change without a README update fails here.
func TestGeneratedReferencesCurrent(t *testing.T) {
	for _, tc := range []struct {
		file, marker string
		args         []string
	}{
		{"../../jobs/ingest/README.md", "contracts", []string{"contracts", "--markdown"}},
		{"../../internal/config/README.md", "config", []string{"config", "--markdown"}},
		{"../../jobs/activate/README.md", "destinations", []string{"activate", "types", "--markdown"}},
	} {
		t.Run(tc.marker, func(t *testing.T) {
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			_, after, ok := strings.Cut(string(b), "<!-- "+tc.marker+":begin")
			if !ok {
				t.Fatalf("%s has no %s:begin marker", tc.file, tc.marker)
			}
			_, after, _ = strings.Cut(after, "-->\n")
			section, _, ok := strings.Cut(after, "<!-- "+tc.marker+":end -->")
			if !ok {
				t.Fatalf("%s has no %s:end marker", tc.file, tc.marker)
			}
			var out, errb bytes.Buffer
			if code := execute(context.Background(), tc.args, &out, &errb); code != 0 {
				t.Fatalf("%v: exit %d: %s", tc.args, code, errb.String())
			}
			if section != out.String() {
				t.Errorf("%s is stale: regenerate the section between the %s markers with `parcours %s`",
					tc.file, tc.marker, strings.Join(tc.args, " "))
			}
		})
	}
}
