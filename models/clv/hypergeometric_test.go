package clv

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mathext"
)

func TestLogHyp2F1ClosedForms(t *testing.T) {
	tests := []struct {
		name       string
		a, b, c, z float64
		want       float64
	}{
		// ₂F₁(1, 1; 2; z) = -ln(1-z)/z.
		{"log", 1, 1, 2, 0.5, -math.Log(0.5) / 0.5},
		{"log near 1", 1, 1, 2, 0.99, -math.Log(0.01) / 0.99},
		// ₂F₁(a, b; b; z) = (1-z)^-a.
		{"binomial", 2.5, 3, 3, 0.3, math.Pow(0.7, -2.5)},
		{"binomial large", 40, 7, 7, 0.6, math.Pow(0.4, -40)},
		// ₂F₁(1/2, 1; 3/2; z²) = atanh(z)/z.
		{"atanh", 0.5, 1, 1.5, 0.64, math.Atanh(0.8) / 0.8},
		{"z=0", 3, 4, 5, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lf, sign, err := logHyp2F1(tc.a, tc.b, tc.c, tc.z)
			if err != nil {
				t.Fatal(err)
			}
			got := sign * math.Exp(lf)
			if math.Abs(got-tc.want) > 1e-12*math.Abs(tc.want) {
				t.Errorf("got %.15g, want %.15g", got, tc.want)
			}
		})
	}
}

func TestLogHyp2F1AgainstGonum(t *testing.T) {
	// Parameter ranges met by the BG/NBD formulas: (r+x, b+x; a+b+x-1; z),
	// including c < 1 and c < 0 (a + b < 1, x = 0).
	for _, a := range []float64{0.2, 1.3, 6, 27} {
		for _, b := range []float64{0.4, 2.4, 28} {
			for _, c := range []float64{-0.4, 0.3, 2.2, 28.2} {
				for _, z := range []float64{0.05, 0.4, 0.8, 0.95} {
					want := mathext.Hypergeo(a, b, c, z)
					if math.IsNaN(want) || math.IsInf(want, 0) || math.Abs(want) > 1e250 {
						continue
					}
					lf, sign, err := logHyp2F1(a, b, c, z)
					if err != nil {
						t.Fatalf("(%v, %v; %v; %v): %v", a, b, c, z, err)
					}
					got := sign * math.Exp(lf)
					if math.Abs(got-want) > 1e-9*math.Abs(want) {
						t.Errorf("(%v, %v; %v; %v): got %.15g, gonum %.15g", a, b, c, z, got, want)
					}
				}
			}
		}
	}
}

func TestLogHyp2F1NoOverflow(t *testing.T) {
	// A customer with 2,000 repeat purchases: ₂F₁ ≈ 10^600, beyond float64.
	lf, sign, err := logHyp2F1(2000, 2002, 2001, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// ₂F₁(a, b; b-1; z) = (1-z)^-a·(1 + a z/((b-1)(1-z))) by the recurrence
	// in c; with b-1 = 2001: ln = 2000·ln 2 + ln(1 + 2000/2001).
	want := 2000*math.Ln2 + math.Log(1+2000.0/2001.0)
	if sign != 1 || math.Abs(lf-want) > 1e-9*want {
		t.Errorf("log 2F1 = %.12g, want %.12g", lf, want)
	}
}

func TestLogHyp2F1Errors(t *testing.T) {
	for _, tc := range []struct{ a, b, c, z float64 }{
		{1, 1, 2, 1}, {1, 1, 2, -0.1}, {1, 1, -2, 0.5}, {-1, 1, 2, 0.5}, {1, 1, math.NaN(), 0.5},
	} {
		if _, _, err := logHyp2F1(tc.a, tc.b, tc.c, tc.z); err == nil {
			t.Errorf("%+v: no error", tc)
		}
	}
}
