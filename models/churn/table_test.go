package churn

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func nan() float64 { return math.NaN() }

// userTable is a small file as the CLI would read it.
func userTable() []Column {
	return []Column{
		{Name: "id", Float: []float64{101, 102, 103, 104, 105, 106}},
		{Name: "churned", Text: []string{"Yes", "no", "TRUE", "false", "1", " 0 "}},
		{Name: "recency", Float: []float64{10, nan(), 200, 5, nan(), 90}},
		{Name: "plan", Text: []string{"basic", "premium", "", "basic", "plus", "basic"}},
		{Name: "city", Text: []string{"Lyon", "Paris", "Nice", "Lyon", " ", "Lille"}},
	}
}

func TestPrepareTableEncodesAndCounts(t *testing.T) {
	ds, rep, err := PrepareTable(userTable(), TableOptions{Label: "churned", ID: "id", MaxOneHot: 3})
	if err != nil {
		t.Fatal(err)
	}
	wantY := []float64{1, 0, 1, 0, 1, 0}
	for i, v := range wantY {
		if ds.Y[i] != v {
			t.Errorf("label row %d = %v, want %v", i+1, ds.Y[i], v)
		}
	}
	if strings.Join(ds.IDs, ",") != "101,102,103,104,105,106" {
		t.Errorf("ids %v", ds.IDs)
	}
	// plan has 3 levels (<= 3): one-hot, sorted. city has 4 (> 3): frequency.
	wantNames := []string{"recency", "plan=basic", "plan=plus", "plan=premium", "city_frequency"}
	if strings.Join(ds.X.Names, "|") != strings.Join(wantNames, "|") {
		t.Fatalf("features %v, want %v", ds.X.Names, wantNames)
	}
	want := [][]float64{
		{10, 1, 0, 0, 2.0 / 6},
		{nan(), 0, 0, 1, 1.0 / 6},
		{200, nan(), nan(), nan(), 1.0 / 6},
		{5, 1, 0, 0, 2.0 / 6},
		{nan(), 0, 1, 0, nan()},
		{90, 1, 0, 0, 1.0 / 6},
	}
	for i, row := range want {
		for j, v := range row {
			got := ds.X.At(i, j)
			if !(got == v || math.IsNaN(got) && math.IsNaN(v)) {
				t.Errorf("row %d %s = %v, want %v", i+1, ds.X.Names[j], got, v)
			}
		}
	}
	if rep.Rows != 6 || rep.Positives != 3 || rep.Features != 5 || len(rep.Columns) != 3 {
		t.Errorf("report %+v", rep)
	}
	wantCols := []ColumnReport{
		{Name: "recency", Type: "numeric", Encoding: EncodeNumeric, Missing: 2},
		{Name: "plan", Type: "text", Encoding: EncodeOneHot, Missing: 1, Levels: 3},
		{Name: "city", Type: "text", Encoding: EncodeFrequency, Missing: 1, Levels: 4},
	}
	for k, w := range wantCols {
		g := rep.Columns[k]
		if g.Name != w.Name || g.Type != w.Type || g.Encoding != w.Encoding || g.Missing != w.Missing || g.Levels != w.Levels {
			t.Errorf("column report %+v, want %+v", g, w)
		}
	}

	// Scoring a new file: unseen levels get well-defined values, a numeric
	// column read as text is parsed, the label column is not needed.
	newFile := []Column{
		{Name: "id", Text: []string{"201", "202"}},
		{Name: "city", Text: []string{"Paris", "Marseille"}},
		{Name: "plan", Text: []string{"gold", "plus"}},
		{Name: "recency", Text: []string{"", "33"}},
	}
	sc, srep, err := ds.Encoding.Transform(newFile, "id")
	if err != nil {
		t.Fatal(err)
	}
	wantNew := [][]float64{
		{nan(), 0, 0, 0, 1.0 / 6}, // gold: unseen plan → all indicators 0
		{33, 0, 1, 0, 0},          // Marseille: unseen city → frequency 0
	}
	for i, row := range wantNew {
		for j, v := range row {
			got := sc.X.At(i, j)
			if !(got == v || math.IsNaN(got) && math.IsNaN(v)) {
				t.Errorf("new row %d %s = %v, want %v", i+1, sc.X.Names[j], got, v)
			}
		}
	}
	if srep.Columns[0].Missing != 1 || srep.Columns[1].Unseen != 1 || srep.Columns[2].Unseen != 1 {
		t.Errorf("transform report %+v", srep.Columns)
	}
	if _, _, err := ds.Encoding.Transform(newFile[:3], "id"); err == nil || !strings.Contains(err.Error(), `"recency" not found`) {
		t.Errorf("missing feature column: %v", err)
	}
	bad := append([]Column(nil), newFile...)
	bad[3] = Column{Name: "recency", Text: []string{"12", "soon"}}
	var ie *InputError
	if _, _, err := ds.Encoding.Transform(bad, "id"); !errors.As(err, &ie) || ie.Column != "recency" || ie.Row != 2 || ie.Value != "soon" {
		t.Errorf("unparseable number: %v", err)
	}
}

func TestPrepareTableBadInput(t *testing.T) {
	with := func(name string, c Column) []Column {
		cols := userTable()
		for i := range cols {
			if cols[i].Name == name {
				cols[i] = c
			}
		}
		return cols
	}
	tests := []struct {
		name string
		cols []Column
		opt  TableOptions
		// want is a substring of the error; wantCell, when set, the
		// InputError's column, row and value.
		want     string
		wantCell *InputError
	}{
		{name: "missing label column", cols: userTable(), opt: TableOptions{Label: "churn", ID: "id"},
			want: `label column "churn" not found`},
		{name: "missing id column", cols: userTable(), opt: TableOptions{Label: "churned", ID: "customer_id"},
			want: `id column "customer_id" not found`},
		{name: "non-binary text label", opt: TableOptions{Label: "churned", ID: "id"},
			cols:     with("churned", Column{Name: "churned", Text: []string{"yes", "no", "maybe", "no", "yes", "no"}}),
			want:     `column "churned", data row 3 (line 4 with the header): "maybe" is not a binary label`,
			wantCell: &InputError{Column: "churned", Row: 3, Value: "maybe"}},
		{name: "non-binary numeric label", opt: TableOptions{Label: "churned", ID: "id"},
			cols:     with("churned", Column{Name: "churned", Float: []float64{0, 1, 1, 2, 0, 1}}),
			want:     `data row 4 (line 5 with the header): "2" is not a binary label`,
			wantCell: &InputError{Column: "churned", Row: 4, Value: "2"}},
		{name: "blank label", opt: TableOptions{Label: "churned", ID: "id"},
			cols:     with("churned", Column{Name: "churned", Float: []float64{0, 1, nan(), 0, 0, 1}}),
			want:     "is blank; every row needs a label",
			wantCell: &InputError{Column: "churned", Row: 3, Value: ""}},
		{name: "blank id", opt: TableOptions{Label: "churned", ID: "id"},
			cols:     with("id", Column{Name: "id", Text: []string{"a", "b", "c", "", "e", "f"}}),
			want:     "every row needs a customer id",
			wantCell: &InputError{Column: "id", Row: 4, Value: ""}},
		{name: "duplicate id", opt: TableOptions{Label: "churned", ID: "id"},
			cols:     with("id", Column{Name: "id", Float: []float64{1, 2, 3, 4, 2, 6}}),
			want:     "repeats the id of data row 2",
			wantCell: &InputError{Column: "id", Row: 5, Value: "2"}},
		{name: "infinite feature", opt: TableOptions{Label: "churned", ID: "id"},
			cols:     with("recency", Column{Name: "recency", Float: []float64{1, 2, math.Inf(1), 4, 5, 6}}),
			want:     "is infinite",
			wantCell: &InputError{Column: "recency", Row: 3, Value: "+Inf"}},
		{name: "ragged columns", opt: TableOptions{Label: "churned", ID: "id"},
			cols: with("recency", Column{Name: "recency", Float: []float64{1, 2}}),
			want: `column "recency" has 2 rows, column "id" has 6`},
		{name: "no features", opt: TableOptions{Label: "churned", ID: "id"},
			cols: userTable()[:2], want: "no feature columns"},
		{name: "one-hot name clash", opt: TableOptions{Label: "churned", ID: "id"},
			cols: append(userTable(), Column{Name: "plan=basic", Float: []float64{1, 2, 3, 4, 5, 6}}),
			want: `two features are named "plan=basic"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := PrepareTable(tc.cols, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if tc.wantCell != nil {
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error %v is not an InputError", err)
				}
				if ie.Column != tc.wantCell.Column || ie.Row != tc.wantCell.Row || ie.Value != tc.wantCell.Value {
					t.Errorf("InputError %+v, want column %q row %d value %q", ie, tc.wantCell.Column, tc.wantCell.Row, tc.wantCell.Value)
				}
			}
		})
	}
}

// TestTableToScoresEndToEnd is the CLI path: prepare a user's table, fit
// with a holdout, save, load, and score a new file through the saved
// encoding.
func TestTableToScoresEndToEnd(t *testing.T) {
	st := genTable(3000, 21)
	ds, _, err := PrepareTable(st.cols, TableOptions{Label: "churned", ID: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := NewLearner(AlgoLogReg, 7)
	if err != nil {
		t.Fatal(err)
	}
	m, rep, err := FitHoldout(ctx, l, ds, HoldoutOptions{Seed: 7, RecencyFeature: recencyName})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TrainRows+rep.HoldoutRows != 3000 || rep.HoldoutRows != 750 || rep.Baseline == nil {
		t.Fatalf("report %+v", rep)
	}
	if rep.Holdout.ROCAUC < rep.Baseline.ROCAUC+0.1 || rep.Holdout.ROCAUC > rep.Train.ROCAUC+0.02 {
		t.Errorf("holdout AUC %.3f, train %.3f, baseline %.3f", rep.Holdout.ROCAUC, rep.Train.ROCAUC, rep.Baseline.ROCAUC)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := UnmarshalModel(b)
	if err != nil {
		t.Fatal(err)
	}
	// A new file with columns in another order and without the label.
	fresh := genTable(50, 22)
	var cols []Column
	for k := len(fresh.cols) - 1; k >= 0; k-- {
		if fresh.cols[k].Name != "churned" {
			cols = append(cols, fresh.cols[k])
		}
	}
	sds, _, err := loaded.Encoding.Transform(cols, "customer")
	if err != nil {
		t.Fatal(err)
	}
	scores, err := loaded.ScoreDataset(ctx, sds, ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 50 || scores[0].ID != "C000000" {
		t.Fatalf("scores %+v", scores[:1])
	}
	// The same customers prepared with the training encoding score the same.
	direct, err := m.Predict(ctx, sds.X)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range scores {
		if s.Probability != direct[i] {
			t.Fatalf("row %d: %v after reload, %v before", i, s.Probability, direct[i])
		}
	}
}

func TestColumnsFromText(t *testing.T) {
	cols := ColumnsFromText([]string{"n", "t"}, [][]string{{"1.5", "a"}, {"NA", "2"}, {"", "b"}})
	if cols[0].Name != "n" || cols[0].Text != nil || cols[0].Float[0] != 1.5 || !math.IsNaN(cols[0].Float[1]) || !math.IsNaN(cols[0].Float[2]) {
		t.Errorf("numeric column = %+v", cols[0])
	}
	if cols[1].Float != nil || len(cols[1].Text) != 3 || cols[1].Text[1] != "2" {
		t.Errorf("text column = %+v", cols[1])
	}
}
