package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// README's data-contract section is the output of `parcours contracts
// --markdown`: a contract change without a README update fails here.
func TestReadmeContractsCurrent(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	_, after, ok := strings.Cut(readme, "<!-- contracts:begin")
	if !ok {
		t.Fatal("README.md has no contracts:begin marker")
	}
	_, after, _ = strings.Cut(after, "-->\n")
	section, _, ok := strings.Cut(after, "<!-- contracts:end -->")
	if !ok {
		t.Fatal("README.md has no contracts:end marker")
	}
	var out, errb bytes.Buffer
	if code := execute(context.Background(), []string{"contracts", "--markdown"}, &out, &errb); code != 0 {
		t.Fatalf("contracts: exit %d: %s", code, errb.String())
	}
	if section != out.String() {
		t.Errorf("README.md data contracts are stale: regenerate the section between the markers with `parcours contracts --markdown`")
	}
}
