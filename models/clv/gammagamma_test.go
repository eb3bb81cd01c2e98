package clv

import (
	"math"
	"strconv"
	"testing"
	"time"
)

// publishedSpend are the conditional expected average spends of CDNOW
// customers 1..10 in Hardie's Gamma-Gamma spreadsheet (note 025), 2 decimals.
func publishedSpend() []float64 {
	return []float64{24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17}
}

func TestFitGammaGammaCDNOW(t *testing.T) {
	customers := loadCDNOWWithSpend(t)
	fit, err := FitGammaGamma(t.Context(), customers)
	if err != nil {
		t.Fatal(err)
	}
	if fit.N != 946 || fit.Excluded != 0 {
		t.Fatalf("fitted on %d customers (%d excluded), want 946", fit.N, fit.Excluded)
	}
	checkRel(t, "p", fit.Params.P, 6.25, 0.01)
	checkRel(t, "q", fit.Params.Q, 3.74, 0.01)
	checkRel(t, "v", fit.Params.V, 15.44, 0.01)
	if fit.SE == nil || !(fit.SE.P > 0 && fit.SE.Q > 0 && fit.SE.V > 0) {
		t.Fatalf("standard errors %+v", fit.SE)
	}
	// The file rounds m̄ to cents: customer 1's 22.345 reads as 22.35, which
	// moves its expected spend by 2·0.005·p/(2p+q-1) = 0.004 (24.6586 here).
	// Hence a tolerance of one cent; the exact-data test below rounds to the
	// published digits.
	for i, want := range publishedSpend() {
		got, err := fit.Params.ConditionalExpectedSpend(customers[i])
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 0.01 {
			t.Errorf("customer %s: expected spend %.4f, want %.2f ± 0.01", customers[i].ID, got, want)
		}
	}
}

func TestFitGammaGammaCDNOWTransactions(t *testing.T) {
	customers, err := Summarize(loadCDNOWTransactions(t), time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC), Weeks)
	if err != nil {
		t.Fatal(err)
	}
	fit, err := FitGammaGamma(t.Context(), customers)
	if err != nil {
		t.Fatal(err)
	}
	checkRel(t, "p", fit.Params.P, 6.25, 0.01)
	checkRel(t, "q", fit.Params.Q, 3.74, 0.01)
	checkRel(t, "v", fit.Params.V, 15.44, 0.01)
	byID := make(map[string]Customer, len(customers))
	for _, c := range customers {
		byID[c.ID] = c
	}
	for i, want := range publishedSpend() {
		c := byID[strconv.Itoa(i+1)]
		got, err := fit.Params.ConditionalExpectedSpend(c)
		if err != nil {
			t.Fatal(err)
		}
		if math.Round(got*100)/100 != want {
			t.Errorf("customer %s: expected spend %.4f does not round to %.2f", c.ID, got, want)
		}
	}
}

func TestGammaGammaGradient(t *testing.T) {
	d, err := newGGData(loadCDNOWWithSpend(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []GammaGammaParams{{6.25, 3.74, 15.44}, {1, 2, 30}, {20, 1.5, 3}} {
		grad := make([]float64, 3)
		d.logLik(p, grad)
		x := []float64{p.P, p.Q, p.V}
		for i := range x {
			num := fivePointDerivative(func(v []float64) float64 { return d.logLik(GammaGammaParams{v[0], v[1], v[2]}, nil) }, x, i)
			if math.Abs(num-grad[i]) > 1e-6*math.Max(1, math.Abs(num)) {
				t.Errorf("%+v: d/dθ%d analytic %.10g, numeric %.10g", p, i, grad[i], num)
			}
		}
	}
}

func TestGammaGammaConditionalSpendByHand(t *testing.T) {
	p := GammaGammaParams{P: 2, Q: 3, V: 10}
	tests := []struct {
		c    Customer
		want float64
	}{
		// x = 0: population mean p·v/(q-1) = 2·10/2.
		{Customer{X: 0, MeanValue: 99}, 10},
		// 2·(10 + 4·30)/(2·4 + 3 - 1) = 260/10.
		{Customer{X: 4, MeanValue: 30}, 26},
		// Net refunds count as zero spend: 2·10/(2+2).
		{Customer{X: 1, MeanValue: -5}, 5},
	}
	for _, tc := range tests {
		got, err := p.ConditionalExpectedSpend(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%+v: %.12g, want %v", tc.c, got, tc.want)
		}
	}
	if _, err := (GammaGammaParams{P: 2, Q: 0.9, V: 10}).ConditionalExpectedSpend(Customer{}); err == nil {
		t.Error("q <= 1 accepted")
	}
}

func TestFitGammaGammaExcludesNonPositiveSpend(t *testing.T) {
	customers := loadCDNOWWithSpend(t)
	customers = append(customers, Customer{ID: "refund", X: 2, TX: 3, T: 5, MeanValue: -4})
	fit, err := FitGammaGamma(t.Context(), customers)
	if err != nil {
		t.Fatal(err)
	}
	if fit.N != 946 || fit.Excluded != 1 {
		t.Errorf("N=%d Excluded=%d, want 946 and 1", fit.N, fit.Excluded)
	}
}
