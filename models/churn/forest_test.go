package churn

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"testing"

	"github.com/sjwhitworth/golearn/base"
)

// plantedSplit prepares n training and n test customers of the planted model.
func plantedSplit(t testing.TB, n int, seed uint64) (train, test *Dataset, st synthTable) {
	t.Helper()
	st = genTable(2*n, seed)
	ds, _, err := PrepareTable(st.cols, TableOptions{Label: "churned", ID: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	a := make([]int, n)
	b := make([]int, n)
	for i := range n {
		a[i], b[i] = i, n+i
	}
	return ds.Subset(a), ds.Subset(b), st
}

// TestFlatTreeMatchesGolearnPredict grows golearn ID3 trees and checks that
// walking the flat copy gives golearn's own prediction on every row whose
// leaf is not a tie (golearn breaks those in map order).
func TestFlatTreeMatchesGolearnPredict(t *testing.T) {
	train, test, _ := plantedSplit(t, 1500, 5)
	fs := &forestState{Means: columnMeans(train.X)}
	for i := range train.X.Rows {
		fs.impute(train.X.Row(i))
	}
	for i := range test.X.Rows {
		fs.impute(test.X.Row(i))
	}
	rows := make([]int, train.X.Rows)
	for i := range rows {
		rows[i] = i
	}
	for _, feats := range [][]int{{0, 1, 2}, {0, 3, 5, 19, 20, 21}, {2, 4, 9, 10, 11}} {
		tree, flat, err := growTree(train.X, train.Y, rows, feats)
		if err != nil {
			t.Fatal(err)
		}
		// The same rows and features as a golearn grid, labels unknown.
		inst := base.NewDenseInstances()
		specs := make([]base.AttributeSpec, len(feats))
		for a, j := range feats {
			specs[a] = inst.AddAttribute(base.NewFloatAttribute("f" + itoa(j)))
		}
		class := base.NewCategoricalAttribute()
		class.SetName("churn")
		class.GetSysValFromString("0")
		class.GetSysValFromString("1")
		cs := inst.AddAttribute(class)
		if err := inst.AddClassAttribute(class); err != nil {
			t.Fatal(err)
		}
		if err := inst.Extend(test.X.Rows); err != nil {
			t.Fatal(err)
		}
		for i := range test.X.Rows {
			for a, j := range feats {
				inst.Set(specs[a], i, base.PackFloatToBytes(test.X.At(i, j)))
			}
			inst.Set(cs, i, class.GetSysValFromString("0"))
		}
		pred, err := tree.Predict(inst)
		if err != nil {
			t.Fatal(err)
		}
		compared := 0
		for i := range test.X.Rows {
			v := flat.vote(test.X.Row(i), -1, 0)
			if v == 0.5 {
				continue
			}
			compared++
			if got := base.GetClass(pred, i); (got == "1") != (v == 1) {
				t.Fatalf("features %v row %d: golearn says %s, flat tree votes %v", feats, i, got, v)
			}
		}
		if compared < test.X.Rows/2 {
			t.Errorf("features %v: only %d rows compared", feats, compared)
		}
		if len(flat.Feature) < 3 {
			t.Errorf("features %v: tree did not split (%d nodes)", feats, len(flat.Feature))
		}
		// ID3 uses a numeric feature once per path: depth <= len(feats)-1.
		if d := flat.depth(0); d > len(feats)-1 {
			t.Errorf("features %v: depth %d", feats, d)
		}
	}
}

func (t *flatTree) depth(n int) int {
	if t.Feature[n] < 0 {
		return 0
	}
	return 1 + max(t.depth(t.Left[n]), t.depth(t.Right[n]))
}

func itoa(j int) string { return formatNumber(float64(j)) }

func TestForestSeededSampledAndExplained(t *testing.T) {
	train, test, _ := plantedSplit(t, 3000, 6)
	f := Forest{Trees: 30, MaxRows: 2000, Seed: 3}
	ctx := context.Background()

	// golearn must not write to stdout while fitting.
	stdout := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	m, fitErr := f.Fit(ctx, train)
	os.Stdout = stdout
	w.Close()
	printed, _ := io.ReadAll(r)
	if fitErr != nil {
		t.Fatal(fitErr)
	}
	if len(printed) > 0 {
		t.Errorf("forest fit printed %q", printed)
	}

	st := m.s.(*forestState)
	if st.SampleRows != 2000 || len(st.Trees) != 30 || st.Params.FeaturesPerTree != DefaultFeaturesPerTree(22) {
		t.Errorf("sample %d rows, %d trees, %d features per tree", st.SampleRows, len(st.Trees), st.Params.FeaturesPerTree)
	}
	again, err := f.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := m.MarshalBinary()
	b2, _ := again.MarshalBinary()
	if !bytes.Equal(b1, b2) {
		t.Error("the same seed grew a different forest")
	}
	f.Seed = 4
	other, err := f.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	b3, _ := other.MarshalBinary()
	if bytes.Equal(b1, b3) {
		t.Error("seeds 3 and 4 grew the same forest")
	}

	p, err := m.Predict(ctx, test.X)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range p {
		// Votes are whole or half trees.
		if v < 0 || v > 1 || math.Abs(v*60-math.Round(v*60)) > 1e-9 {
			t.Fatalf("row %d: probability %v is not a share of 30 trees in half votes", i, v)
		}
	}
	mt, err := m.Evaluate(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	base, err := Baseline{RecencyFeature: recencyName}.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	bm, err := base.Evaluate(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forest AUC %.4f, baseline %.4f", mt.ROCAUC, bm.ROCAUC)
	if mt.ROCAUC < bm.ROCAUC+0.05 {
		t.Errorf("forest AUC %.4f does not beat the recency baseline %.4f", mt.ROCAUC, bm.ROCAUC)
	}

	c, err := m.Contributions(ctx, test.X)
	if err != nil {
		t.Fatal(err)
	}
	if c.Additive {
		t.Error("forest contributions claim to be additive")
	}
	// Brute force: p̃ with one feature replaced by its mean.
	for _, i := range []int{0, 1, 2, 17, 99} {
		row := append([]float64(nil), test.X.Row(i)...)
		st.impute(row)
		full := st.smoothedLogit(st.votes(row))
		for j := range row {
			alt := append([]float64(nil), row...)
			alt[j] = st.Means[j]
			want := full - st.smoothedLogit(st.votes(alt))
			if got := c.Row(i)[j]; math.Abs(got-want) > 1e-12 {
				t.Errorf("row %d feature %s: contribution %v, brute force %v", i, c.Features[j], got, want)
			}
		}
		if want := st.smoothedLogit(st.votes(st.Means)); c.Bias[i] != want {
			t.Errorf("row %d bias %v, want %v", i, c.Bias[i], want)
		}
	}
	// A missing value is imputed with the mean, so it contributes nothing.
	x := NewMatrix(test.X.Names, 1)
	copy(x.Data, test.X.Row(0))
	x.Set(0, 0, math.NaN())
	c1, err := m.Contributions(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if c1.Values[0] != 0 {
		t.Errorf("missing value contributes %v", c1.Values[0])
	}
}
