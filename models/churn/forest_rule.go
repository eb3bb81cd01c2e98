package churn

import (
	"math"
	"slices"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// infoGainRule is golearn's information-gain split rule for numeric
// attributes, made deterministic. golearn's own InformationGainRuleGenerator
// lists candidate attributes from a map and reads a node's rows from a map,
// so when two splits are equally good (common in small nodes) the one taken
// changes from run to run. This rule reads rows in index order, tries
// attributes in name order and keeps the first best split, and otherwise
// does what golearn does: thresholds at midpoints between consecutive
// distinct values, values <= threshold to child "0", a split must leave rows
// on both sides, and the attribute with the lowest weighted child entropy
// (highest information gain) wins. It plugs into golearn's ID3 builder
// through trees.NewID3DecisionTreeFromRule.
type infoGainRule struct{}

// GenerateSplitRule implements trees.RuleGenerator.
func (infoGainRule) GenerateSplitRule(f base.FixedDataGrid) *trees.DecisionTreeRule {
	classAttrs := f.AllClassAttributes()
	classSpec, err := f.GetAttribute(classAttrs[0])
	if err != nil {
		panic(err) // golearn's rule generators report misuse the same way
	}
	_, rows := f.Size()
	classes := make([]int, rows)
	for i := range rows {
		if classAttrs[0].GetStringFromSysVal(f.Get(classSpec, i)) == "1" {
			classes[i] = 1
		}
	}
	var candidates []base.Attribute
	for _, a := range f.AllAttributes() {
		if _, ok := a.(*base.FloatAttribute); ok && !a.Equals(classAttrs[0]) {
			candidates = append(candidates, a)
		}
	}
	slices.SortFunc(candidates, func(a, b base.Attribute) int {
		switch {
		case a.GetName() < b.GetName():
			return -1
		case a.GetName() > b.GetName():
			return 1
		}
		return 0
	})
	best := &trees.DecisionTreeRule{}
	bestEntropy := math.Inf(1)
	refs := make([]splitRef, rows)
	for _, a := range candidates {
		spec, err := f.GetAttribute(a)
		if err != nil {
			panic(err)
		}
		for i := range rows {
			refs[i] = splitRef{base.UnpackBytesToFloat(f.Get(spec, i)), classes[i]}
		}
		e, val := bestThreshold(refs)
		if e < bestEntropy {
			bestEntropy = e
			best = &trees.DecisionTreeRule{SplitAttr: a, SplitVal: val}
		}
	}
	return best // SplitAttr nil when no split exists: golearn makes a leaf
}

type splitRef struct {
	val   float64
	class int
}

// bestThreshold returns the lowest weighted child entropy over golearn's
// candidate thresholds and the first threshold reaching it (+Inf when no
// threshold leaves rows on both sides). refs is reordered.
func bestThreshold(refs []splitRef) (entropy, threshold float64) {
	slices.SortFunc(refs, func(a, b splitRef) int {
		switch {
		case a.val < b.val:
			return -1
		case a.val > b.val:
			return 1
		}
		return a.class - b.class
	})
	var left, right [2]int
	for _, r := range refs {
		right[r.class]++
	}
	entropy, threshold = math.Inf(1), math.Inf(1)
	prev := math.NaN()
	j := 0
	// The loop mirrors golearn's getNumericAttributeEntropy.
	for i := 0; i < len(refs)-1; {
		val := (refs[i].val + refs[i+1].val) / 2
		if val == prev {
			i++
			continue
		}
		for j < len(refs) && refs[j].val < val {
			left[refs[j].class]++
			right[refs[j].class]--
			i++
			j++
		}
		prev = val
		if e, ok := splitEntropy(left, right); ok && e < entropy {
			entropy, threshold = e, val
		}
	}
	return entropy, threshold
}

// splitEntropy is the row-weighted entropy (bits) of the two children;
// ok is false when a child would be empty.
func splitEntropy(left, right [2]int) (float64, bool) {
	nl, nr := left[0]+left[1], right[0]+right[1]
	if nl == 0 || nr == 0 {
		return 0, false
	}
	n := float64(nl + nr)
	return float64(nl)/n*entropy2(left) + float64(nr)/n*entropy2(right), true
}

// entropy2 is the entropy in bits of a two-class count.
func entropy2(c [2]int) float64 {
	n := float64(c[0] + c[1])
	var h float64
	for _, k := range c {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
