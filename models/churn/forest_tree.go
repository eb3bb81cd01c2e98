package churn

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// flatTree is one golearn ID3 tree in arrays: node n splits on model
// feature Feature[n] (−1 for a leaf), sending value <= Threshold[n] to
// Left[n] and larger values to Right[n], as golearn's Predict does. A
// leaf's Vote is 1 when most of its training rows churned, 0 when most
// stayed, 0.5 on a tie.
type flatTree struct {
	Feature   []int     `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int     `json:"left"`
	Right     []int     `json:"right"`
	Vote      []float64 `json:"vote"`
	// Uses lists the features the tree splits on, increasing.
	Uses []int `json:"uses"`
}

// vote walks an imputed row down the tree; when override >= 0, feature
// override reads as value instead.
func (t *flatTree) vote(row []float64, override int, value float64) float64 {
	n := 0
	for t.Feature[n] >= 0 {
		v := row[t.Feature[n]]
		if t.Feature[n] == override {
			v = value
		}
		if v > t.Threshold[n] {
			n = t.Right[n]
		} else {
			n = t.Left[n]
		}
	}
	return t.Vote[n]
}

// growTree fits golearn's ID3 tree (information gain, see infoGainRule; no
// pruning) on the given rows (with repeats) and features of an imputed
// matrix, and returns it with its flat form.
func growTree(x *Matrix, y []float64, rows, feats []int) (tree *trees.ID3DecisionTree, flat flatTree, err error) {
	// golearn reports misuse by panicking; turn that into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("golearn: %v", r)
		}
	}()
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(feats))
	index := make(map[string]int, len(feats))
	for a, j := range feats {
		name := "f" + strconv.Itoa(j)
		specs[a] = inst.AddAttribute(base.NewFloatAttribute(name))
		index[name] = j
	}
	class := base.NewCategoricalAttribute()
	class.SetName("churn")
	sysVal := [2][]byte{class.GetSysValFromString("0"), class.GetSysValFromString("1")}
	classSpec := inst.AddAttribute(class)
	if err := inst.AddClassAttribute(class); err != nil {
		return nil, flatTree{}, fmt.Errorf("golearn class attribute: %w", err)
	}
	if err := inst.Extend(len(rows)); err != nil {
		return nil, flatTree{}, fmt.Errorf("golearn instances: %w", err)
	}
	for r, i := range rows {
		row := x.Row(i)
		for a, j := range feats {
			inst.Set(specs[a], r, base.PackFloatToBytes(row[j]))
		}
		inst.Set(classSpec, r, sysVal[int(y[i])])
	}
	// No pruning (0), as golearn's RandomForest; a deterministic rule.
	tree = trees.NewID3DecisionTreeFromRule(0, infoGainRule{})
	if err := tree.Fit(inst); err != nil {
		return nil, flatTree{}, fmt.Errorf("golearn id3: %w", err)
	}
	if _, err := flat.add(tree.Root, index); err != nil {
		return nil, flatTree{}, err
	}
	used := make(map[int]bool)
	for _, j := range flat.Feature {
		if j >= 0 && !used[j] {
			used[j] = true
			flat.Uses = append(flat.Uses, j)
		}
	}
	slices.Sort(flat.Uses)
	return tree, flat, nil
}

// add appends node n and its subtree, returning n's position.
func (t *flatTree) add(n *trees.DecisionTreeNode, index map[string]int) (int, error) {
	id := len(t.Feature)
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Vote = append(t.Vote, 0)
	if n.Children == nil {
		// golearn's own leaf class breaks ties in map order; count instead.
		churned, stayed := n.ClassDist["1"], n.ClassDist["0"]
		switch {
		case churned > stayed:
			t.Vote[id] = 1
		case churned == stayed:
			t.Vote[id] = 0.5
		}
		return id, nil
	}
	if n.SplitRule == nil || n.SplitRule.SplitAttr == nil {
		return 0, fmt.Errorf("golearn node with children but no split rule")
	}
	if _, ok := n.SplitRule.SplitAttr.(*base.FloatAttribute); !ok {
		return 0, fmt.Errorf("golearn split on non-numeric attribute %q", n.SplitRule.SplitAttr.GetName())
	}
	j, ok := index[n.SplitRule.SplitAttr.GetName()]
	if !ok {
		return 0, fmt.Errorf("golearn split on unknown attribute %q", n.SplitRule.SplitAttr.GetName())
	}
	// Children "0" (value <= threshold) and "1" (above). When a split left
	// one side empty golearn falls back to the only child; so do we.
	low, high := n.Children["0"], n.Children["1"]
	if low == nil {
		low = high
	}
	if high == nil {
		high = low
	}
	if low == nil {
		return 0, fmt.Errorf("golearn split node without usable children")
	}
	t.Feature[id] = j
	t.Threshold[id] = n.SplitRule.SplitVal
	l, err := t.add(low, index)
	if err != nil {
		return 0, err
	}
	r := l
	if high != low {
		if r, err = t.add(high, index); err != nil {
			return 0, err
		}
	}
	t.Left[id], t.Right[id] = l, r
	return id, nil
}
