package attribution

import (
	"context"
	"math"
	"testing"
	"time"

	attr "github.com/parcours/parcours/models/attribution"
)

// TestApply: k = 3. Paths: "a > b" converts 4 times (value 40), "a"
// twice (20), "c" once (10), "d > c" once (10); two conversions had no
// touch (value 5). Converting customers per channel: a 5, b 3, c 2, d 1,
// no touch 3.
//
// Last touch credits b 4, a 2, c 2 (c alone and d > c), d 0; b and a have
// k customers and are published; c (2) and d (1) are rolled into 'other
// channels' with 2 conversions and 20 value. The two touchless
// conversions are '(unattributed)' with their 3 customers.
func TestApply(t *testing.T) {
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	m := Month{Month: month,
		Paths: []attr.Path{
			{Channels: []string{"a", "b"}, Conversions: 4, Value: 40},
			{Channels: []string{"a"}, Conversions: 2, Value: 20, Nulls: 5},
			{Channels: []string{"c"}, Conversions: 1, Value: 10},
			{Channels: []string{"d", "c"}, Conversions: 1, Value: 10},
		},
		NoTouch:    attr.Path{Conversions: 2, Value: 5},
		Converters: map[string]int64{"a": 5, "b": 3, "c": 2, "d": 1, NoTouch: 3},
	}
	credits, err := attr.LastTouch(m.Paths)
	if err != nil {
		t.Fatal(err)
	}
	p := Apply(m, credits, 3)
	got := map[string]Row{}
	for _, r := range p.Rows {
		got[r.Channel] = r
	}
	want := map[string]Row{
		"b":          {month, "last_touch", "b", 4, 40, 3},
		"a":          {month, "last_touch", "a", 2, 20, 5},
		Unattributed: {month, "last_touch", Unattributed, 2, 5, 3},
	}
	if len(got) != len(want) {
		t.Errorf("rows %+v, want %+v", p.Rows, want)
	}
	for ch, w := range want {
		if g := got[ch]; g != w {
			t.Errorf("%s: %+v, want %+v", ch, g, w)
		}
	}
	if len(p.Other) != 1 || p.Other[0].Channel != OtherChannels || p.Other[0].Conversions != 2 || p.Other[0].Value != 20 {
		t.Errorf("other = %+v, want one row of 2 conversions, 20 value", p.Other)
	}
	if len(p.Rolled) != 2 || p.Rolled[0] != "c" || p.Rolled[1] != "d" {
		t.Errorf("rolled = %v, want [c d]", p.Rolled)
	}
	if p.Withheld != 0 {
		t.Errorf("withheld %d, want 0", p.Withheld)
	}
	// Under k, the touchless conversions are withheld rather than mixed
	// with channels.
	m.Converters[NoTouch] = 2
	if p := Apply(m, credits, 3); p.Withheld != 1 {
		t.Errorf("withheld %d with 2 touchless customers, want 1", p.Withheld)
	}
	// Every model's published credits, rolled-up row included, add up to
	// all conversions: the paths' and the touchless ones.
	all, err := attr.RunAll(context.Background(), m.Paths, attr.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m.Converters[NoTouch] = 3
	p = Apply(m, all, 3)
	sum := map[string]float64{}
	for _, r := range append(p.Rows, p.Other...) {
		sum[r.Model] += r.Conversions
	}
	for model, s := range sum {
		if math.Abs(s-10) > 1e-9 {
			t.Errorf("%s: %v conversions published, want 10", model, s)
		}
	}
	if len(sum) != 10 {
		t.Errorf("%d models, want 10", len(sum))
	}
}
