package attribution

import (
	"context"
	"math"
	"testing"
)

// threeChannel is the hand example shared by the Markov and Shapley tests:
// "A > B" 1 conversion (value 10), "A" 1 null, "C" 2 conversions (value 2).
func threeChannel() []Path {
	return []Path{
		{Channels: []string{"A", "B"}, Conversions: 1, Value: 10},
		{Channels: []string{"A"}, Nulls: 1},
		{Channels: []string{"C"}, Conversions: 2, Value: 2},
	}
}

func TestMarkovHandComputed(t *testing.T) {
	tests := []struct {
		name     string
		paths    []Path
		order    int
		wantP    float64
		wantRE   []float64
		wantConv []float64
	}{
		{
			// Order 1. Counts: start->A 2, start->C 2, A->B 1, A->null 1, B->conv 1, C->conv 2.
			// P: start->A 1/2, start->C 1/2, A->B 1/2, A->null 1/2, B->conv 1, C->conv 1.
			// P(conv) = 1/2*1/2*1 + 1/2*1 = 3/4.
			// Remove A: start->A goes to null, P = 1/2, RE = 1 - (1/2)/(3/4) = 1/3.
			// Remove B: A->B goes to null, P = 1/2, RE = 1/3.
			// Remove C: start->C goes to null, P = 1/4, RE = 2/3.
			// Sum 4/3, shares 1/4, 1/4, 1/2 of 3 conversions: 0.75, 0.75, 1.5.
			name: "order 1", paths: threeChannel(), order: 1,
			wantP: 0.75, wantRE: []float64{1.0 / 3, 1.0 / 3, 2.0 / 3}, wantConv: []float64{0.75, 0.75, 1.5},
		},
		{
			// Order 2. Paths "A > B > C" 1 conv, "C > B > C" 1 null.
			// States: start->(A) 1, (A)->(A,B) 1, (A,B)->(B,C) 1; start->(C) 1, (C)->(C,B) 1,
			// (C,B)->(B,C) 1; (B,C)->conv 1, (B,C)->null 1. Every path reaches (B,C): P = 1/2.
			// Remove A: start->(A) to null, P = 1/2*1/2 = 1/4, RE = 1/2.
			// Remove B: (A,B) and (C,B) and (B,C) contain B, P = 0, RE = 1.
			// Remove C: (C) and (B,C) contain C, P = 0, RE = 1.
			// Sum 5/2, shares 1/5, 2/5, 2/5 of 1 conversion.
			name: "order 2",
			paths: []Path{
				{Channels: []string{"A", "B", "C"}, Conversions: 1},
				{Channels: []string{"C", "B", "C"}, Nulls: 1},
			},
			order: 2, wantP: 0.5, wantRE: []float64{0.5, 1, 1}, wantConv: []float64{0.2, 0.4, 0.4},
		},
		{
			// Order 1 with a self-loop: "A > A" 1 conversion, "B" 1 null.
			// start->A 1/2, start->B 1/2, A->A 1/2, A->conv 1/2, B->null 1.
			// x_A = 1/2 x_A + 1/2 -> x_A = 1, P = 1/2. Remove A: P = 0, RE = 1.
			// Remove B: P = 1/2, RE = 0. A gets the one conversion.
			name: "order 1 self-loop",
			paths: []Path{
				{Channels: []string{"A", "A"}, Conversions: 1},
				{Channels: []string{"B"}, Nulls: 1},
			},
			order: 1, wantP: 0.5, wantRE: []float64{1, 0}, wantConv: []float64{1, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Markov(context.Background(), tt.paths, tt.order)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.ConversionProb-tt.wantP) > tol {
				t.Errorf("P(conv) = %.15g, want %g", res.ConversionProb, tt.wantP)
			}
			for i := range tt.wantRE {
				if math.Abs(res.RemovalEffects[i]-tt.wantRE[i]) > tol {
					t.Errorf("%s removal effect = %.15g, want %g", res.Channels[i], res.RemovalEffects[i], tt.wantRE[i])
				}
				if math.Abs(res.Credits[i].Conversions-tt.wantConv[i]) > tol {
					t.Errorf("%s credit = %.15g, want %g", res.Channels[i], res.Credits[i].Conversions, tt.wantConv[i])
				}
			}
		})
	}
}

func TestMarkovValueAndOrders(t *testing.T) {
	// Value removal effects, order 1: conversions from B are worth 10/1 = 10,
	// from C 2/2 = 1. E[value] = P(reach B)*10 + P(reach C)*1 = 1/4*10 + 1/2*1 = 3.
	// Remove A: 1/2, RE = 1 - (1/2)/3 = 5/6. Remove B: 1/2, RE = 5/6.
	// Remove C: 5/2, RE = 1/6. Sum 11/6, shares 5/11, 5/11, 1/11 of value 12.
	res, err := Markov(context.Background(), threeChannel(), 1)
	if err != nil {
		t.Fatal(err)
	}
	wantRE := []float64{5.0 / 6, 5.0 / 6, 1.0 / 6}
	for i, re := range res.ValueRemovalEffects {
		if math.Abs(re-wantRE[i]) > tol {
			t.Errorf("%s value RE = %v, want %v", res.Channels[i], re, wantRE[i])
		}
	}
	want := []float64{60.0 / 11, 60.0 / 11, 12.0 / 11}
	for i, c := range res.Credits {
		if math.Abs(c.Value-want[i]) > tol {
			t.Errorf("%s value = %v, want %v", c.Channel, c.Value, want[i])
		}
	}
	// Here every higher-order state that contains a channel is only reachable
	// through the order-1 state of that channel, so orders 2 and 3 agree with 1.
	for order := 2; order <= 3; order++ {
		r, err := Markov(context.Background(), threeChannel(), order)
		if err != nil {
			t.Fatal(err)
		}
		for i := range r.RemovalEffects {
			if math.Abs(r.RemovalEffects[i]-res.RemovalEffects[i]) > tol {
				t.Errorf("order %d %s RE = %v, want %v", order, r.Channels[i], r.RemovalEffects[i], res.RemovalEffects[i])
			}
		}
	}
	if _, err := Markov(context.Background(), threeChannel(), 4); err == nil {
		t.Error("order 4 accepted")
	}
	if _, err := Markov(context.Background(), []Path{{Channels: []string{"A"}, Nulls: 1}}, 1); err == nil {
		t.Error("no-conversion data accepted")
	}
}
