package eval

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// tiny is a six-row example with tied predictions worked out by hand in the
// comments of the tests below: positives score .85, .65, .35; negatives
// .85, .35, .05.
func tiny() (y, p []float64) {
	return []float64{1, 0, 1, 0, 1, 0}, []float64{0.85, 0.85, 0.65, 0.35, 0.35, 0.05}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRankMetricsHandComputed(t *testing.T) {
	y, p := tiny()
	tests := []struct {
		name string
		fn   func(y, p []float64) (float64, error)
		// Pairs (pos, neg): .85 beats .35 and .05, ties .85 (2.5);
		// .65 beats .35, .05 (2); .35 ties .35, beats .05 (1.5): 6/9.
		// AP: cutoffs .85 (R 1/3, P 1/2), .65 (R 2/3, P 2/3), .35 (R 1, P 3/5).
		want float64
	}{
		{"roc auc with ties", ROCAUC, 6.0 / 9.0},
		{"average precision with ties", AveragePrecision, 1.0/3*1.0/2 + 1.0/3*2.0/3 + 1.0/3*3.0/5},
		{"roc auc perfect", func(_, _ []float64) (float64, error) {
			return ROCAUC([]float64{0, 0, 1}, []float64{0.1, 0.2, 0.3})
		}, 1},
		{"roc auc reversed", func(_, _ []float64) (float64, error) {
			return ROCAUC([]float64{1, 0, 0}, []float64{0.1, 0.2, 0.3})
		}, 0},
		{"roc auc all tied", func(_, _ []float64) (float64, error) {
			return ROCAUC([]float64{1, 0, 0, 1}, []float64{0.4, 0.4, 0.4, 0.4})
		}, 0.5},
		{"average precision all tied is the base rate", func(_, _ []float64) (float64, error) {
			return AveragePrecision([]float64{1, 0, 0, 0}, []float64{0.4, 0.4, 0.4, 0.4})
		}, 0.25},
		{"average precision perfect", func(_, _ []float64) (float64, error) {
			return AveragePrecision([]float64{0, 1, 1}, []float64{0.1, 0.9, 0.8})
		}, 1},
		// Brier: .15² + .85² + .35² + .35² + .65² + .05² = 1.415 over 6.
		{"brier", Brier, 1.415 / 6},
		{"log loss", LogLoss, -(math.Log(0.85) + math.Log(0.15) + math.Log(0.65) +
			math.Log(0.65) + math.Log(0.35) + math.Log(0.95)) / 6},
		{"log loss clips certainty", func(_, _ []float64) (float64, error) {
			return LogLoss([]float64{1, 0}, []float64{0, 0})
		}, -math.Log(1e-15) / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.fn(y, p)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want, 1e-12) {
				t.Errorf("got %.15g, want %.15g", got, tc.want)
			}
		})
	}
}

func TestLiftCurveSplitsTiesProRata(t *testing.T) {
	y, p := tiny()
	// Tenths of 6 rows are 0.6 rows. Groups by decreasing score:
	// .85 (2 rows, 1 pos), .65 (1, 1), .35 (2, 1), .05 (1, 0).
	// Expected positives among the top k rows, k = 0.6d:
	wantCum := []float64{0.3, 0.6, 0.9, 1.4, 2.0, 2.3, 2.6, 2.9, 3, 3}
	curve, err := LiftCurve(y, p)
	if err != nil {
		t.Fatal(err)
	}
	prev := 0.0
	for d, c := range curve {
		if c.Decile != d+1 || !near(c.Rows, 0.6, 1e-12) {
			t.Errorf("decile %d: got decile %d rows %v", d+1, c.Decile, c.Rows)
		}
		if !near(c.CumulativeCapture, wantCum[d]/3, 1e-12) {
			t.Errorf("decile %d capture %v, want %v", d+1, c.CumulativeCapture, wantCum[d]/3)
		}
		wantPos := wantCum[d] - prev
		if !near(c.Positives, wantPos, 1e-12) || !near(c.Lift, wantPos/0.6/0.5, 1e-12) {
			t.Errorf("decile %d positives %v lift %v, want %v and %v", d+1, c.Positives, c.Lift, wantPos, wantPos/0.6/0.5)
		}
		if !near(c.CumulativeLift, wantCum[d]/(0.6*float64(d+1))/0.5, 1e-12) {
			t.Errorf("decile %d cumulative lift %v", d+1, c.CumulativeLift)
		}
		prev = wantCum[d]
	}
	lift, capture, err := TopDecile(y, p)
	if err != nil {
		t.Fatal(err)
	}
	// Top 0.6 rows sit inside the .85 tie (half positive): rate .5 = base rate.
	if !near(lift, 1, 1e-12) || !near(capture, 0.1, 1e-12) {
		t.Errorf("top decile lift %v capture %v, want 1 and 0.1", lift, capture)
	}
}

func TestTopDecileOnTwentyRows(t *testing.T) {
	// 20 rows, distinct scores, the top 2 both positive, 4 positives overall:
	// lift = (2/2)/(4/20) = 5, capture = 2/4.
	y := make([]float64, 20)
	p := make([]float64, 20)
	for i := range p {
		p[i] = float64(i) / 20
	}
	y[19], y[18], y[5], y[0] = 1, 1, 1, 1
	lift, capture, err := TopDecile(y, p)
	if err != nil {
		t.Fatal(err)
	}
	if !near(lift, 5, 1e-12) || !near(capture, 0.5, 1e-12) {
		t.Errorf("lift %v capture %v, want 5 and 0.5", lift, capture)
	}
}

func TestCalibrationTable(t *testing.T) {
	y, p := tiny()
	bins, err := Calibration(y, p, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]CalibrationBin{
		0: {Count: 1, MeanPredicted: 0.05, ObservedRate: 0},
		3: {Count: 2, MeanPredicted: 0.35, ObservedRate: 0.5},
		6: {Count: 1, MeanPredicted: 0.65, ObservedRate: 1},
		8: {Count: 2, MeanPredicted: 0.85, ObservedRate: 0.5},
	}
	for i, b := range bins {
		w := want[i]
		if b.Count != w.Count || !near(b.MeanPredicted, w.MeanPredicted, 1e-12) || b.ObservedRate != w.ObservedRate {
			t.Errorf("bin %d = %+v, want %+v", i, b, w)
		}
		if !near(b.Lower, float64(i)/10, 1e-12) || !near(b.Upper, float64(i+1)/10, 1e-12) {
			t.Errorf("bin %d edges [%v, %v)", i, b.Lower, b.Upper)
		}
	}
	// A prediction of exactly 1 belongs to the last bin.
	bins, err = Calibration([]float64{1}, []float64{1}, 10)
	if err != nil || bins[9].Count != 1 {
		t.Errorf("p=1 not in last bin: %+v, %v", bins, err)
	}
}

func TestROCCurvePoints(t *testing.T) {
	y, p := tiny()
	pts, err := ROCCurve(y, p, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []ROCPoint{
		{0, 0, math.Nextafter(0.85, 2)},
		{1.0 / 3, 1.0 / 3, 0.85},
		{1.0 / 3, 2.0 / 3, 0.65},
		{2.0 / 3, 1, 0.35},
		{1, 1, 0.05},
	}
	if len(pts) != len(want) {
		t.Fatalf("got %d points %v, want %v", len(pts), pts, want)
	}
	for i := range want {
		if !near(pts[i].FPR, want[i].FPR, 1e-12) || !near(pts[i].TPR, want[i].TPR, 1e-12) || pts[i].Threshold != want[i].Threshold {
			t.Errorf("point %d = %+v, want %+v", i, pts[i], want[i])
		}
	}
	short, err := ROCCurve(y, p, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(short) != 3 || short[0] != pts[0] || short[1] != pts[2] || short[2] != pts[4] {
		t.Errorf("downsampled to %v, want points 0, 2, 4 of %v", short, pts)
	}
}

// mannWhitneyAUC is the rank-sum form of the AUC with mid-ranks for ties:
// U = R_pos − P(P+1)/2, AUC = U/(P·N).
func mannWhitneyAUC(y, p []float64) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	ranks := make([]float64, len(p))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && p[idx[j]] == p[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of 1-based ranks i+1..j
		for k := i; k < j; k++ {
			ranks[idx[k]] = mid
		}
		i = j
	}
	var rPos, nPos float64
	for i := range y {
		if y[i] == 1 {
			rPos += ranks[i]
			nPos++
		}
	}
	nNeg := float64(len(y)) - nPos
	return (rPos - nPos*(nPos+1)/2) / (nPos * nNeg)
}

func TestROCAUCMatchesMannWhitney(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial, n := range []int{10, 57, 500, 3000} {
		y := make([]float64, n)
		p := make([]float64, n)
		for i := range y {
			if rng.Float64() < 0.3 {
				y[i] = 1
			}
			// Rounded to two decimals so that ties are frequent.
			p[i] = math.Round(100*min(max(0.3*y[i]+0.7*rng.Float64(), 0), 1)) / 100
		}
		y[0], y[1] = 0, 1
		got, err := ROCAUC(y, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := mannWhitneyAUC(y, p); !near(got, want, 1e-12) {
			t.Errorf("trial %d (n=%d): trapezoid AUC %.15f, Mann-Whitney %.15f", trial, n, got, want)
		}
	}
}

func TestEvaluateBundlesMetricsAsJSON(t *testing.T) {
	y, p := tiny()
	m, err := Evaluate(y, p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 6 || m.Positives != 3 || m.PositiveRate != 0.5 || !near(m.MeanPredicted, 3.1/6, 1e-12) {
		t.Errorf("counts %+v", m)
	}
	if !near(m.ROCAUC, 6.0/9, 1e-12) || !near(m.TopDecileCapture, 0.1, 1e-12) || len(m.LiftCurve) != 10 ||
		len(m.Calibration) != 10 || len(m.ROC) != 5 || !near(m.Brier, 1.415/6, 1e-12) {
		t.Errorf("metrics %+v", m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Metrics
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ROCAUC != m.ROCAUC || back.PRAUC != m.PRAUC || back.ROC[0].Threshold != m.ROC[0].Threshold {
		t.Errorf("JSON round trip changed metrics: %s", b)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		y, p []float64
		want error
	}{
		{"length mismatch", []float64{0, 1}, []float64{0.5}, ErrInput},
		{"empty", nil, nil, ErrInput},
		{"label 2", []float64{0, 2}, []float64{0.5, 0.5}, ErrInput},
		{"prediction NaN", []float64{0, 1}, []float64{math.NaN(), 0.5}, ErrInput},
		{"prediction above 1", []float64{0, 1}, []float64{1.5, 0.5}, ErrInput},
		{"single class", []float64{1, 1}, []float64{0.2, 0.5}, ErrOneClass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Evaluate(tc.y, tc.p); !errors.Is(err, tc.want) {
				t.Errorf("Evaluate error %v, want %v", err, tc.want)
			}
		})
	}
	// Brier, log loss and calibration stay defined with one class.
	if b, err := Brier([]float64{1, 1}, []float64{1, 0.5}); err != nil || b != 0.125 {
		t.Errorf("Brier one class = %v, %v", b, err)
	}
}
