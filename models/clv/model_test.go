package clv

import (
	"bytes"
	"strings"
	"testing"
)

func TestModelSaveLoadRoundTrip(t *testing.T) {
	customers := loadCDNOWWithSpend(t)
	m, err := Fit(t.Context(), customers, Weeks)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if *loaded.BGNBD.SE != *m.BGNBD.SE || *loaded.GammaGamma.SE != *m.GammaGamma.SE ||
		loaded.BGNBD.Params != m.BGNBD.Params || loaded.GammaGamma.Params != m.GammaGamma.Params ||
		loaded.BGNBD.LogLikelihood != m.BGNBD.LogLikelihood || loaded.BGNBD.N != m.BGNBD.N ||
		loaded.GammaGamma.N != m.GammaGamma.N || loaded.TimeUnit != Weeks {
		t.Fatalf("loaded %+v differs from saved %+v", loaded, m)
	}
	opts := ScoreOptions{HorizonDays: 365, AnnualDiscountRate: 0.1}
	before, err := m.Score(t.Context(), customers, opts)
	if err != nil {
		t.Fatal(err)
	}
	after, err := loaded.Score(t.Context(), customers, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("customer %s: %+v before save, %+v after load", before[i].ID, before[i], after[i])
		}
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"format", `{"format":"parcours.clv.v0","time_unit":"weeks","bgnbd":{"params":{"r":1,"alpha":1,"a":1,"b":1}},"gamma_gamma":{"params":{"p":1,"q":2,"v":1}}}`},
		{"unit", `{"format":"parcours.clv.v1","time_unit":"months","bgnbd":{"params":{"r":1,"alpha":1,"a":1,"b":1}},"gamma_gamma":{"params":{"p":1,"q":2,"v":1}}}`},
		{"params", `{"format":"parcours.clv.v1","time_unit":"weeks","bgnbd":{"params":{"r":-1,"alpha":1,"a":1,"b":1}},"gamma_gamma":{"params":{"p":1,"q":2,"v":1}}}`},
		{"unknown field", `{"format":"parcours.clv.v1","time_unit":"weeks","bgnbd":{"params":{"r":1,"alpha":1,"a":1,"b":1,"c":3}},"gamma_gamma":{"params":{"p":1,"q":2,"v":1}}}`},
		{"truncated", `{"format":"parcours.clv.v1",`},
	}
	for _, tc := range tests {
		if _, err := Load(strings.NewReader(tc.in)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	good := `{"format":"parcours.clv.v1","time_unit":"weeks","bgnbd":{"params":{"r":1,"alpha":1,"a":1,"b":1}},"gamma_gamma":{"params":{"p":1,"q":2,"v":1}}}`
	if _, err := Load(strings.NewReader(good)); err != nil {
		t.Errorf("minimal valid model rejected: %v", err)
	}
}
