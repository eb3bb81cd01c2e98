//go:build !noxgboost

package xgb

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// sample draws rows×5 standard normals with 10% of column 0 missing and
// labels from logit = 2·x0 − x1 + x2·x3 (a missing x0 counts as 0).
func sample(rows int, seed uint64) (x, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	const cols = 5
	x = make([]float64, rows*cols)
	y = make([]float64, rows)
	for i := range rows {
		r := x[i*cols : (i+1)*cols]
		for j := range r {
			r[j] = rng.NormFloat64()
		}
		logit := 2*r[0] - r[1] + r[2]*r[3]
		if rng.Float64() < 0.1 {
			logit -= 2 * r[0]
			r[0] = math.NaN()
		}
		if rng.Float64() < 1/(1+math.Exp(-logit)) {
			y[i] = 1
		}
	}
	return x, y
}

func TestVersionIsDebian174(t *testing.T) {
	if v := Version(); v != "1.7.4" {
		t.Errorf("linked XGBoost %s, the pinned library is 1.7.4", v)
	}
}

func TestTrainPredictContributions(t *testing.T) {
	x, y := sample(2000, 3)
	p := DefaultParams()
	p.Rounds = 30
	p.Threads = 1
	b, err := Train(context.Background(), x, 2000, 5, y, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, err := b.Rounds(); err != nil || n != 30 {
		t.Errorf("rounds = %d, %v; want 30", n, err)
	}
	test, ty := sample(500, 4)
	prob, err := b.Predict(test, 500, 5, Probability)
	if err != nil {
		t.Fatal(err)
	}
	margin, err := b.Predict(test, 500, 5, Margin)
	if err != nil {
		t.Fatal(err)
	}
	contrib, err := b.Predict(test, 500, 5, Contributions)
	if err != nil {
		t.Fatal(err)
	}
	if len(prob) != 500 || len(margin) != 500 || len(contrib) != 500*6 {
		t.Fatalf("lengths %d %d %d", len(prob), len(margin), len(contrib))
	}
	var correct int
	for i := range 500 {
		// TreeSHAP is exact: per-feature contributions plus bias = margin.
		var sum float64
		for _, c := range contrib[i*6 : (i+1)*6] {
			sum += c
		}
		if math.Abs(sum-margin[i]) > 1e-4 {
			t.Errorf("row %d: contributions sum to %v, margin %v", i, sum, margin[i])
		}
		if want := 1 / (1 + math.Exp(-margin[i])); math.Abs(prob[i]-want) > 1e-6 {
			t.Errorf("row %d: probability %v, sigmoid(margin) %v", i, prob[i], want)
		}
		if (prob[i] > 0.5) == (ty[i] == 1) {
			correct++
		}
		// A missing x0 must not be credited to x0 more than trees allow: rows
		// with x0 missing still get a finite contribution.
		if math.IsNaN(contrib[i*6]) {
			t.Fatalf("row %d: NaN contribution", i)
		}
	}
	// The generating model's own accuracy is about 0.8 on this design;
	// a working booster is far above chance.
	if acc := float64(correct) / 500; acc < 0.7 {
		t.Errorf("holdout accuracy %v, want >= 0.7", acc)
	}
}

func TestSaveLoadScoresBitForBit(t *testing.T) {
	x, y := sample(1000, 5)
	p := DefaultParams()
	p.Rounds = 20
	p.Subsample = 0.8
	p.ColsampleByTree = 0.8
	p.Seed = 42
	b, err := Train(context.Background(), x, 1000, 5, y, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	model, err := b.Save()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(model, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	for _, kind := range []Kind{Probability, Margin, Contributions} {
		a, err := b.Predict(x, 1000, 5, kind)
		if err != nil {
			t.Fatal(err)
		}
		c, err := loaded.Predict(x, 1000, 5, kind)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(c[i]) {
				t.Fatalf("kind %d value %d: %v before save, %v after load", kind, i, a[i], c[i])
			}
		}
	}
	// Same seed, same booster; another seed samples other rows.
	again, err := Train(context.Background(), x, 1000, 5, y, p)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	model2, _ := again.Save()
	if !bytes.Equal(model, model2) {
		t.Error("equal seeds gave different boosters")
	}
	p.Seed = 43
	other, err := Train(context.Background(), x, 1000, 5, y, p)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	model3, _ := other.Save()
	if bytes.Equal(model, model3) {
		t.Error("seed is not passed to XGBoost: seeds 42 and 43 gave the same booster")
	}
	if _, err := Load(model, 4); err == nil {
		t.Error("loading a 5-feature model for 4 columns succeeded")
	}
	if _, err := Load([]byte("not a model"), 5); err == nil {
		t.Error("loading garbage succeeded")
	}
}

func TestErrors(t *testing.T) {
	x, y := sample(100, 6)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, x, 100, 5, y, DefaultParams()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	bad := DefaultParams()
	bad.Eta = 0
	if _, err := Train(context.Background(), x, 100, 5, y, bad); err == nil || !strings.Contains(err.Error(), "eta") {
		t.Errorf("eta 0 accepted: %v", err)
	}
	if _, err := Train(context.Background(), x, 100, 4, y, DefaultParams()); err == nil {
		t.Error("shape mismatch accepted")
	}
	p := DefaultParams()
	p.Rounds = 2
	b, err := Train(context.Background(), x, 100, 5, y, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Predict(x[:40], 10, 4, Probability); err == nil {
		t.Error("predict with 4 columns accepted")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := b.Predict(x, 100, 5, Probability); err == nil {
		t.Error("predict on a closed booster succeeded")
	}
}

// Early stopping: with a learning rate this high the validation log-loss
// turns up within a few dozen rounds; training stops EarlyStoppingRounds
// after the best round, the booster keeps exactly the rounds up to it, and
// its validation log-loss is the best one seen (so slicing kept the right
// trees). The same seed gives the same stopping and booster.
func TestTrainValidatedStopsAtTheBestRound(t *testing.T) {
	x, y := sample(3000, 5)
	vx, vy := sample(1000, 6)
	p := DefaultParams()
	p.Eta, p.MaxDepth, p.MinChildWeight = 0.9, 8, 0
	p.Rounds, p.EarlyStoppingRounds = 400, 10
	valid := Set{X: vx, Rows: 1000, Y: vy}
	b, st, err := TrainValidated(context.Background(), x, 3000, 5, y, valid, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("%+v", st)
	if !st.Stopped || st.Rounds != st.BestRound+p.EarlyStoppingRounds || st.Rounds >= p.Rounds {
		t.Fatalf("stopping %+v: want a stop %d rounds after the best, before %d", st, p.EarlyStoppingRounds, p.Rounds)
	}
	if n, err := b.Rounds(); err != nil || n != st.BestRound {
		t.Errorf("booster has %d rounds (%v), want the best %d", n, err, st.BestRound)
	}
	prob, err := b.Predict(vx, 1000, 5, Probability)
	if err != nil {
		t.Fatal(err)
	}
	loss := 0.0
	for i, q := range prob {
		q = math.Min(math.Max(q, 1e-7), 1-1e-7) // float32 output
		if vy[i] == 1 {
			loss -= math.Log(q)
		} else {
			loss -= math.Log(1 - q)
		}
	}
	if loss /= 1000; math.Abs(loss-st.BestLogLoss) > 1e-4 {
		t.Errorf("kept booster's validation log-loss %.6f, best seen %.6f", loss, st.BestLogLoss)
	}
	again, st2, err := TrainValidated(context.Background(), x, 3000, 5, y, valid, p)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	b1, _ := b.Save()
	b2, _ := again.Save()
	if st2 != st || !bytes.Equal(b1, b2) {
		t.Errorf("same seed, different result: %+v vs %+v, boosters equal %v", st, st2, bytes.Equal(b1, b2))
	}
}

func TestTrainValidatedRejects(t *testing.T) {
	x, y := sample(200, 1)
	p := DefaultParams()
	p.EarlyStoppingRounds = 5
	ctx := context.Background()
	tests := []struct {
		name  string
		valid Set
		p     Params
		want  string
	}{
		{"no early stopping", Set{X: x[:50], Rows: 10, Y: y[:10]}, DefaultParams(), "early_stopping_rounds 0"},
		{"empty", Set{}, p, "validation set"},
		{"wrong width", Set{X: x[:40], Rows: 10, Y: y[:10]}, p, "validation set"},
		{"labels", Set{X: x[:50], Rows: 10, Y: y[:9]}, p, "validation set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := TrainValidated(ctx, x, 200, 5, y, tt.valid, tt.p); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
