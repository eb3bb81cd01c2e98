package segments

import (
	"slices"
	"testing"
)

func TestFM(t *testing.T) {
	for _, tc := range []struct{ f, m, want int }{
		{1, 1, 1}, {1, 2, 2}, {2, 1, 2}, {2, 3, 3}, {1, 5, 3}, {4, 5, 5}, {5, 4, 5}, {3, 3, 3}, {4, 3, 4}, {5, 5, 5},
	} {
		if got := FM(tc.f, tc.m); got != tc.want {
			t.Errorf("FM(%d, %d) = %d, want %d", tc.f, tc.m, got, tc.want)
		}
	}
}

func TestRFMSegment(t *testing.T) {
	for _, tc := range []struct {
		r, f, m int
		want    string
	}{
		{5, 5, 5, RFMChampions},
		{5, 4, 4, RFMChampions},
		{5, 3, 5, RFMChampions}, // FM 4
		{4, 5, 5, RFMLoyal},
		{3, 4, 4, RFMLoyal},
		{3, 5, 3, RFMLoyal}, // FM 4
		{5, 1, 1, RFMNew},
		{5, 1, 2, RFMPotentialLoyalists}, // FM 2: the half rounds up
		{5, 3, 3, RFMPotentialLoyalists},
		{4, 2, 2, RFMPotentialLoyalists},
		{4, 1, 1, RFMPromising},
		{3, 3, 3, RFMNeedAttention},
		{3, 2, 3, RFMNeedAttention}, // FM 3
		{3, 1, 1, RFMAboutToSleep},
		{3, 2, 2, RFMAboutToSleep},
		{2, 3, 3, RFMAtRisk},
		{1, 4, 4, RFMAtRisk},
		{2, 4, 5, RFMCantLoseThem}, // FM 5
		{1, 5, 5, RFMCantLoseThem},
		{2, 1, 1, RFMHibernating},
		{2, 2, 2, RFMHibernating},
		{1, 1, 1, RFMLost},
		{1, 1, 2, RFMLost},
		{1, 2, 3, RFMAtRisk}, // FM 3: 2.5 rounds up
	} {
		got, err := RFMSegment(tc.r, tc.f, tc.m)
		if err != nil || got != tc.want {
			t.Errorf("RFMSegment(%d, %d, %d) = %q, %v; want %q", tc.r, tc.f, tc.m, got, err, tc.want)
		}
	}
	for _, bad := range [][3]int{{0, 1, 1}, {6, 1, 1}, {1, 0, 1}, {1, 1, 6}} {
		if _, err := RFMSegment(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("RFMSegment%v: no error for a score outside 1..5", bad)
		}
	}
}

// Every named segment is reachable, and the map the SQL joins covers each
// of the 25 (R, FM) cells once with the same names.
func TestRFMMapCoversEveryCell(t *testing.T) {
	rows := rfmMap()
	if len(rows) != 25 {
		t.Fatalf("%d cells, want 25", len(rows))
	}
	seen := map[[2]int]bool{}
	used := map[string]bool{}
	for _, r := range rows {
		cell := [2]int{r[0].(int), r[1].(int)}
		if seen[cell] {
			t.Errorf("cell %v twice", cell)
		}
		seen[cell] = true
		seg := r[2].(string)
		if !slices.Contains(RFMSegments(), seg) {
			t.Errorf("cell %v: %q is not an RFM segment", cell, seg)
		}
		used[seg] = true
	}
	for _, s := range RFMSegments() {
		if !used[s] {
			t.Errorf("segment %s is in no cell", s)
		}
		if rfmWords()[s] == "" {
			t.Errorf("segment %s has no words", s)
		}
	}
}
