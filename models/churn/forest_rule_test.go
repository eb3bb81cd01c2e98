package churn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// TestInfoGainRuleAgreesWithGolearn checks the deterministic rule against
// golearn's InformationGainRuleGenerator where golearn is deterministic too:
// continuous features, so no two splits tie.
func TestInfoGainRuleAgreesWithGolearn(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 3))
		inst := base.NewDenseInstances()
		attrs := make([]base.Attribute, 4)
		specs := make([]base.AttributeSpec, 4)
		for a := range attrs {
			attrs[a] = base.NewFloatAttribute("f" + itoa(a))
			specs[a] = inst.AddAttribute(attrs[a])
		}
		class := base.NewCategoricalAttribute()
		class.SetName("churn")
		sys := [2][]byte{class.GetSysValFromString("0"), class.GetSysValFromString("1")}
		cs := inst.AddAttribute(class)
		if err := inst.AddClassAttribute(class); err != nil {
			t.Fatal(err)
		}
		const n = 300
		if err := inst.Extend(n); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			var v [4]float64
			for a := range v {
				v[a] = rng.NormFloat64()
				inst.Set(specs[a], i, base.PackFloatToBytes(v[a]))
			}
			y := 0
			if rng.Float64() < 1/(1+math.Exp(-(v[seed%4]*2-v[(seed+1)%4]))) {
				y = 1
			}
			inst.Set(cs, i, sys[y])
		}
		want := new(trees.InformationGainRuleGenerator).GenerateSplitRule(inst)
		got := infoGainRule{}.GenerateSplitRule(inst)
		if got.SplitAttr.GetName() != want.SplitAttr.GetName() || got.SplitVal != want.SplitVal {
			t.Errorf("seed %d: rule %s <= %v, golearn %s <= %v", seed, got.SplitAttr.GetName(), got.SplitVal, want.SplitAttr.GetName(), want.SplitVal)
		}
	}
}

func TestBestThresholdHandComputed(t *testing.T) {
	// Values 1,2,3,4 with classes 0,0,1,1: the split at 2.5 is pure.
	e, v := bestThreshold([]splitRef{{3, 1}, {1, 0}, {4, 1}, {2, 0}})
	if e != 0 || v != 2.5 {
		t.Errorf("entropy %v threshold %v, want 0 and 2.5", e, v)
	}
	// 1,1,2 with classes 0,1,1: only threshold 1.5; left {0,1} has 1 bit,
	// right {1} none: weighted 2/3.
	e, v = bestThreshold([]splitRef{{1, 0}, {1, 1}, {2, 1}})
	if math.Abs(e-2.0/3) > 1e-15 || v != 1.5 {
		t.Errorf("entropy %v threshold %v, want 2/3 and 1.5", e, v)
	}
	// A constant attribute cannot split.
	if e, v := bestThreshold([]splitRef{{5, 0}, {5, 1}}); !math.IsInf(e, 1) || !math.IsInf(v, 1) {
		t.Errorf("constant attribute: entropy %v threshold %v", e, v)
	}
}
