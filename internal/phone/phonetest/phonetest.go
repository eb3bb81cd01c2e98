// Package phonetest holds the phone normalisation golden vectors every
// package that normalises phones tests against (ingest's norm_phone,
// erasure, activation), so they agree number for number.
package phonetest

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed vectors.tsv
var vectorsTSV string

// Invalid is the expected value of a vector that is not a phone number.
const Invalid = "!invalid"

// Vector is one number as written, in a default region, and its E.164
// form (Invalid when it is none).
type Vector struct {
	Line          int
	Region, Input string
	E164          string
}

// Vectors returns the golden vectors.
func Vectors() ([]Vector, error) {
	var out []Vector
	for i, line := range strings.Split(vectorsTSV, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("vectors.tsv:%d: %d fields, want 3", i+1, len(f))
		}
		out = append(out, Vector{Line: i + 1, Region: f[0], Input: f[1], E164: f[2]})
	}
	return out, nil
}

// Regions lists the regions the vectors cover.
func Regions(vs []Vector) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v.Region] {
			seen[v.Region] = true
			out = append(out, v.Region)
		}
	}
	return out
}
