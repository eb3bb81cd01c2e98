package segments

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parcours/parcours/models/cluster"
)

func TestHungarianByHand(t *testing.T) {
	for _, tc := range []struct {
		name string
		cost [][]float64
		want []int
	}{
		// 1 + 2 + 2 = 5; the five other assignments cost 6 to 11.
		{"square", [][]float64{{4, 1, 3}, {2, 0, 5}, {3, 2, 2}}, []int{1, 0, 2}},
		{"square, a greedy trap", [][]float64{{1, 2}, {1, 9}}, []int{1, 0}},
		// Greedy (row 0 takes 1) pays 1 + 4; the optimum 2 + 2.
		{"more columns", [][]float64{{3, 1, 2}, {4, 2, 9}}, []int{2, 1}},
		{"more rows", [][]float64{{5, 4}, {1, 6}, {2, 1}}, []int{-1, 0, 1}},
		{"one", [][]float64{{7}}, []int{0}},
	} {
		if got := hungarian(tc.cost); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// bestCost is the least total cost of an assignment, by trying every one.
func bestCost(cost [][]float64) float64 {
	n, m := len(cost), len(cost[0])
	best := math.Inf(1)
	used := make([]bool, m)
	var walk func(i int, sum float64, assigned int)
	walk = func(i int, sum float64, assigned int) {
		if i == n {
			if assigned == min(n, m) {
				best = min(best, sum)
			}
			return
		}
		if n-i > m-assigned { // this row may stay out
			walk(i+1, sum, assigned)
		}
		for j := range m {
			if !used[j] {
				used[j] = true
				walk(i+1, sum+cost[i][j], assigned+1)
				used[j] = false
			}
		}
	}
	walk(0, 0, 0)
	return best
}

func TestHungarianIsOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n, m := 1+rng.IntN(6), 1+rng.IntN(6)
		cost := make([][]float64, n)
		for i := range cost {
			cost[i] = make([]float64, m)
			for j := range cost[i] {
				cost[i][j] = math.Round(10*rng.Float64()*10) / 10
			}
		}
		got := hungarian(cost)
		sum, seen := 0.0, map[int]bool{}
		for i, j := range got {
			if j < 0 {
				continue
			}
			if seen[j] {
				t.Fatalf("trial %d: column %d assigned twice: %v", trial, j, got)
			}
			seen[j] = true
			sum += cost[i][j]
		}
		if len(seen) != min(n, m) {
			t.Fatalf("trial %d: %d pairs of %dx%d", trial, len(seen), n, m)
		}
		if want := bestCost(cost); math.Abs(sum-want) > 1e-9 {
			t.Fatalf("trial %d: cost %v, best %v (%v for %v)", trial, sum, want, got, cost)
		}
	}
}

// seg is a hand-built cluster: a size and a 2-d centre.
func seg(size int, x, y float64) MicroSegment {
	return MicroSegment{Size: size, Centroid: []float64{x, y}}
}

func TestMatchKeepsIDs(t *testing.T) {
	feats := []string{"x", "y"}
	// Yesterday: micro_1 at (0, 0), micro_2 at (2, 0), micro_5 at (0, 5);
	// micro_3, micro_4 and micro_6 were used and retired on earlier days.
	hist := MicroHistory{Features: feats, LastID: 6, Previous: []Centroid{
		{Segment: "micro_5", Centroid: []float64{0, 5}}, {Segment: "micro_1", Centroid: []float64{0, 0}}, {Segment: "micro_2", Centroid: []float64{2, 0}}}}
	for _, tc := range []struct {
		name    string
		segs    []MicroSegment
		maxDist float64
		hist    MicroHistory
		want    []string
	}{
		// Greedy would give A (1.1, 0) micro_2 (0.9 away) and B micro_1
		// (3 away): 3.9 in all. Optimal: A micro_1, B micro_2, 2.1.
		{"optimal, not greedy", []MicroSegment{seg(50, 1.1, 0), seg(40, 3, 0), seg(30, 0.1, 5)}, 0, hist,
			[]string{"micro_1", "micro_2", "micro_5"}},
		// C is 11 from micro_5: new, with a number never used (7); micro_5 retires.
		{"a new cluster, one retired", []MicroSegment{seg(50, 0.2, 0), seg(40, 2, 0.1), seg(30, 10, 10)}, 2, hist,
			[]string{"micro_1", "micro_2", "micro_7"}},
		// Without a distance limit C takes the one id left.
		{"no limit", []MicroSegment{seg(50, 0.2, 0), seg(40, 2, 0.1), seg(30, 10, 10)}, 0, hist,
			[]string{"micro_1", "micro_2", "micro_5"}},
		// Two clusters tonight: micro_1 retires.
		{"a cluster vanished", []MicroSegment{seg(70, 0, 4.5), seg(60, 2.5, 0)}, 2, hist,
			[]string{"micro_5", "micro_2"}},
		// Four tonight: the two new ones numbered by decreasing size.
		{"two new ones", []MicroSegment{seg(10, 9, 9), seg(80, 0, 0), seg(20, -9, -9), seg(30, 2, 0)}, 2, hist,
			[]string{"micro_8", "micro_1", "micro_7", "micro_2"}},
		{"features changed: all new", []MicroSegment{seg(50, 0, 0), seg(40, 2, 0)}, 2,
			MicroHistory{Features: []string{"x", "z"}, LastID: 6, Previous: hist.Previous}, []string{"micro_7", "micro_8"}},
		{"first computation", []MicroSegment{seg(40, 2, 0), seg(50, 0, 0)}, 2, MicroHistory{},
			[]string{"micro_2", "micro_1"}},
	} {
		m := &MicroSegmentation{Segments: slices.Clone(tc.segs)}
		if err := m.Match(tc.hist, feats, tc.maxDist); err != nil {
			t.Fatal(err)
		}
		for i, s := range m.Segments {
			if s.Name != tc.want[i] {
				t.Errorf("%s: cluster %d at %v is %s, want %s", tc.name, i, s.Centroid, s.Name, tc.want[i])
			}
			if s.Label == "" {
				t.Errorf("%s: cluster %d has no label", tc.name, i)
			}
		}
	}
	// The shift is the distance to the matched centre; a new id has none.
	m := &MicroSegmentation{Segments: []MicroSegment{seg(50, 0.3, 0.4), seg(30, 10, 10)}}
	if err := m.Match(hist, feats, 2); err != nil {
		t.Fatal(err)
	}
	if s := m.Segments[0]; !s.Matched || math.Abs(s.Shift-0.5) > 1e-12 {
		t.Errorf("micro_1 matched %v shift %v, want 0.5", s.Matched, s.Shift)
	}
	if s := m.Segments[1]; s.Matched || s.Shift != 0 {
		t.Errorf("new cluster matched %v shift %v", s.Matched, s.Shift)
	}
	if err := m.Match(hist, []string{"x"}, 2); err == nil {
		t.Error("centres of 2 coordinates matched with 1 feature")
	}
}

// The order clusters come in does not change their ids or labels.
func TestMatchIgnoresClusterOrder(t *testing.T) {
	feats := []string{"x", "y"}
	hist := MicroHistory{Features: feats, LastID: 3, Previous: []Centroid{
		{Segment: "micro_1", Centroid: []float64{0, 0}}, {Segment: "micro_2", Centroid: []float64{3, 0}}, {Segment: "micro_3", Centroid: []float64{0, 3}}}}
	base := []MicroSegment{seg(50, 0.1, 0), seg(50, 2.9, 0), seg(50, 0, 3.1), seg(50, 0, 0.2)} // equal sizes
	base[0].deviations = []cluster.Deviation{dev("share_app", 1)}
	base[1].deviations = []cluster.Deviation{dev("share_web", 1)}
	base[2].deviations = []cluster.Deviation{dev("share_store", 1)}
	base[3].deviations = []cluster.Deviation{dev("share_app", 1.2)}
	want := map[string][2]string{} // by centre
	for _, perm := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}} {
		segs := make([]MicroSegment, len(base))
		for i, p := range perm {
			segs[i] = base[p]
			segs[i].Centroid = slices.Clone(base[p].Centroid)
		}
		m := &MicroSegmentation{Segments: segs}
		if err := m.Match(hist, feats, 2); err != nil {
			t.Fatal(err)
		}
		for _, s := range m.Segments {
			key := fmt.Sprint(s.Centroid)
			got := [2]string{s.Name, s.Label}
			if w, ok := want[key]; !ok {
				want[key] = got
			} else if w != got {
				t.Errorf("order %v: cluster at %v is %v, was %v", perm, s.Centroid, got, w)
			}
		}
	}
	if w := want["[0 0.2]"]; w != [2]string{"micro_4", "App buyers (4)"} {
		t.Errorf("the second app cluster is %v, want a fresh micro_4 labelled apart", w)
	}
	if w := want["[0.1 0]"]; w != [2]string{"micro_1", "App buyers (1)"} {
		t.Errorf("the first app cluster is %v", w)
	}
}

// Another k-means seed (another numbering of the same clusters) keeps the
// ids the first computation gave.
func TestMicroIDsSurviveAnotherSeed(t *testing.T) {
	in, truth := plant(plantedGroups(), 3)
	first, err := Micro(context.Background(), in, DefaultOptions(), 42)
	if err != nil {
		t.Fatal(err)
	}
	hist := MicroHistory{Features: in.Columns, LastID: first.K}
	for _, s := range first.Segments {
		hist.Previous = append(hist.Previous, Centroid{Segment: s.Name, Centroid: s.Centroid})
	}
	for _, seed := range []uint64{7, 8, 9} {
		again, err := Micro(context.Background(), in, DefaultOptions(), seed)
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(again.Segments) // as if k-means had numbered them the other way
		for i := range again.Labels {
			again.Labels[i] = len(again.Segments) - 1 - again.Labels[i]
		}
		if err := again.Match(hist, in.Columns, DefaultOptions().MatchMaxDistance); err != nil {
			t.Fatal(err)
		}
		for i := range truth {
			a, b := first.Segments[first.Labels[i]], again.Segments[again.Labels[i]]
			if a.Name != b.Name || a.Label != b.Label {
				t.Fatalf("seed %d: customer %d (%s) in %s %q, first in %s %q", seed, i, truth[i], b.Name, b.Label, a.Name, a.Label)
			}
		}
	}
}

// The silhouette chooses k afresh on the first computation, when the
// features change, when the previous computation is a week old or more,
// and once a week; the nights between keep the previous k.
func TestKeptK(t *testing.T) {
	feats := []string{"x", "y"}
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	three := []Centroid{{Segment: "micro_1"}, {Segment: "micro_2"}, {Segment: "micro_4"}}
	// 2026-11-19 is day 20,776 since 1970-01-01, a multiple of 7.
	for _, tc := range []struct {
		name        string
		prev        []Centroid
		prevOn      string
		features    []string
		date        string
		every, want int
	}{
		{"the night after", three, "2026-11-20", feats, "2026-11-21", 7, 3},
		{"six days after", three, "2026-11-20", feats, "2026-11-25", 7, 3},
		{"the weekly choice", three, "2026-11-25", feats, "2026-11-26", 7, 0},
		{"a week without a computation", three, "2026-11-13", feats, "2026-11-20", 7, 0},
		{"the first computation", nil, "", feats, "2026-11-21", 7, 0},
		{"features changed", three, "2026-11-20", []string{"x", "z"}, "2026-11-21", 7, 0},
		{"every night", three, "2026-11-20", feats, "2026-11-21", 1, 0},
		{"a re-run of an older day", three, "2026-11-20", feats, "2026-11-20", 7, 0},
	} {
		h := MicroHistory{Features: feats, Previous: tc.prev}
		if tc.prevOn != "" {
			h.PreviousOn = day(tc.prevOn)
		}
		if got := h.KeptK(tc.features, day(tc.date), tc.every); got != tc.want {
			t.Errorf("%s: kept k %d, want %d", tc.name, got, tc.want)
		}
	}
	// The day counts in its own time zone: midnight in Paris is still the
	// day after the previous computation, not the same day in UTC.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	h := MicroHistory{Features: feats, Previous: three, PreviousOn: day("2026-11-20")}
	if got := h.KeptK(feats, time.Date(2026, 11, 21, 0, 0, 0, 0, paris), 7); got != 3 {
		t.Errorf("another location, same day: kept k %d, want 3", got)
	}
}
