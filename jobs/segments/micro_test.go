package segments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// plantedGroup is a group of customers planted for micro-segmentation:
// its channel mix and one more feature set it apart; recency, frequency
// and spend are drawn alike for every group.
type plantedGroup struct {
	name string
	size int
	// web, app, store: the channel shares; basket, sessions, openRate:
	// the group's typical values.
	web, app, store            float64
	basket, sessions, openRate float64
}

func plantedGroups() []plantedGroup {
	return []plantedGroup{
		{name: "store", size: 60, web: 0.05, app: 0.05, store: 0.9, basket: 120, sessions: 2, openRate: 0.2},
		{name: "web", size: 40, web: 0.9, app: 0.05, store: 0.05, basket: 40, sessions: 30, openRate: 0.2},
		{name: "app", size: 25, web: 0.05, app: 0.9, store: 0.05, basket: 40, sessions: 2, openRate: 0.8},
	}
}

// plant draws the groups' customers (keys g<group>-<i>) with seeded
// noise; every fifth app customer has no email open rate (no email sent).
func plant(groups []plantedGroup, seed uint64) (MicroInput, []string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	noisy := func(v, rel float64) float64 { return math.Max(0, v*(1+rel*rng.NormFloat64())) }
	share := func(v float64) float64 { return math.Min(1, math.Max(0, v+0.03*rng.NormFloat64())) }
	in := MicroInput{}
	for _, f := range microFeatures() {
		in.Columns = append(in.Columns, f.Column)
	}
	var truth []string
	for _, g := range groups {
		for i := 0; i < g.size; i++ {
			open := share(g.openRate)
			if g.name == "app" && i%5 == 0 {
				open = math.NaN()
			}
			in.Customers = append(in.Customers, fmt.Sprintf("g%s-%03d", g.name, i))
			in.Values = append(in.Values, []float64{
				1 + noisy(30, 0.3), math.Round(1 + noisy(5, 0.3)), noisy(300, 0.3), noisy(g.basket, 0.1),
				share(g.web), share(g.app), share(g.store), math.Round(noisy(g.sessions, 0.1)), open,
			})
			truth = append(truth, g.name)
		}
	}
	return in, truth
}

// plantedSegments is the segment each planted group must become (by
// decreasing size) and what its description must say.
func plantedSegments() map[string]struct{ name, words string } {
	return map[string]struct{ name, words string }{
		"store": {"micro_1", "high share of purchases in store"},
		"web":   {"micro_2", "high share of purchases on the web"},
		"app":   {"micro_3", "high share of purchases in the app"},
	}
}

// checkRecovered asserts that the planted groups are exactly the clusters,
// named by decreasing size, and that each description names the planted
// channel. segmentOf(i) is the segment of planted customer i.
func checkRecovered(t *testing.T, seg *MicroSegmentation, truth []string, segmentOf func(i int) string) {
	t.Helper()
	if seg.K != 3 {
		t.Fatalf("k = %d, want the 3 planted groups (silhouettes %+v)", seg.K, seg.Scores)
	}
	want := plantedSegments()
	for i, g := range truth {
		if got := segmentOf(i); got != want[g].name {
			t.Fatalf("customer %d of group %s is in %s, want %s", i, g, got, want[g].name)
		}
	}
	for _, g := range []string{"store", "web", "app"} {
		s := seg.Segments[slices.IndexFunc(seg.Segments, func(s MicroSegment) bool { return s.Name == want[g].name })]
		if !strings.Contains(s.Description, want[g].words) {
			t.Errorf("%s (group %s): description %q does not say %q", s.Name, g, s.Description, want[g].words)
		}
	}
}

func TestMicroRecoversPlantedGroups(t *testing.T) {
	in, truth := plant(plantedGroups(), 3)
	seg, err := Micro(context.Background(), in, DefaultOptions(), 42)
	if err != nil {
		t.Fatal(err)
	}
	checkRecovered(t, seg, truth, func(i int) string { return seg.Segments[seg.Labels[i]].Name })
	for _, s := range seg.Segments {
		t.Logf("%s: %s", s.Name, s.Description)
	}
	t.Logf("silhouettes %+v", seg.Scores)
	if seg.Fitted != len(truth) {
		t.Errorf("fitted on %d customers, want all %d", seg.Fitted, len(truth))
	}
	// Well separated: k=3 beats every other k clearly, not by a hair.
	for _, s := range seg.Scores {
		if s.K != 3 && s.Silhouette > seg.Scores[3-DefaultOptions().KMin].Silhouette-0.1 {
			t.Errorf("silhouette of k=%d is %.3f, within 0.1 of k=3's %.3f", s.K, s.Silhouette, seg.Scores[3-DefaultOptions().KMin].Silhouette)
		}
	}
	if sizes := []int{seg.Segments[0].Size, seg.Segments[1].Size, seg.Segments[2].Size}; !slices.Equal(sizes, []int{60, 40, 25}) {
		t.Errorf("sizes %v, want 60 40 25", sizes)
	}
	// The missing open rates were given the mean of the others.
	sum, n := 0.0, 0
	for _, row := range in.Values {
		if v := row[8]; !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if math.Abs(seg.Imputed[8]-sum/float64(n)) > 1e-12 {
		t.Errorf("open rate imputed with %v, want the mean %v", seg.Imputed[8], sum/float64(n))
	}
	// Same seed, same result.
	again, err := Micro(context.Background(), in, DefaultOptions(), 42)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Labels, seg.Labels) || !slices.Equal(again.Distances, seg.Distances) {
		t.Error("a second run with the same seed differs")
	}
}

// Fitted on a sample, everyone is still assigned, and the groups survive.
func TestMicroFitsOnSample(t *testing.T) {
	in, truth := plant(plantedGroups(), 5)
	opts := DefaultOptions()
	opts.FitSample = 50
	opts.SilhouetteSample = 30
	seg, err := Micro(context.Background(), in, opts, 9)
	if err != nil {
		t.Fatal(err)
	}
	if seg.Fitted != 50 || len(seg.Labels) != len(truth) {
		t.Fatalf("fitted %d, labelled %d; want 50 and %d", seg.Fitted, len(seg.Labels), len(truth))
	}
	checkRecovered(t, seg, truth, func(i int) string { return seg.Segments[seg.Labels[i]].Name })
}

func TestMicroSkipsWhatCannotBeClustered(t *testing.T) {
	cols := make([]string, len(microFeatures()))
	for j, f := range microFeatures() {
		cols[j] = f.Column
	}
	row := []float64{3, 1, 20, 20, 1, 0, 0, 4, 0.5}
	same := MicroInput{Columns: cols}
	for i := 0; i < 12; i++ {
		same.Customers = append(same.Customers, fmt.Sprint("c", i))
		same.Values = append(same.Values, slices.Clone(row))
	}
	few := MicroInput{Columns: cols, Customers: same.Customers[:2], Values: same.Values[:2]}
	for name, in := range map[string]MicroInput{"identical customers": same, "two customers": few} {
		_, err := Micro(context.Background(), in, DefaultOptions(), 1)
		var skip *SkipError
		if !errors.As(err, &skip) || skip.Family != FamilyMicro {
			t.Errorf("%s: err = %v, want a micro SkipError", name, err)
		}
	}
	bad := MicroInput{Columns: append(slices.Clone(cols[1:]), "recency_days"), Customers: same.Customers, Values: same.Values}
	if _, err := Micro(context.Background(), bad, DefaultOptions(), 1); err == nil {
		t.Error("columns out of order accepted")
	}
}

func TestImpute(t *testing.T) {
	nan := math.NaN()
	got, means, err := impute([][]float64{{1, nan, 5}, {3, nan, nan}, {nan, nan, 7}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{1, 0, 5}, {3, 0, 6}, {2, 0, 7}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("row %d = %v, want %v", i, got[i], want[i])
		}
	}
	if !slices.Equal(means, []float64{2, 0, 6}) {
		t.Errorf("means %v, want [2 0 6]", means)
	}
	if _, _, err := impute([][]float64{{1, math.Inf(1), 0}}, 3); err == nil {
		t.Error("an infinite value accepted")
	}
}

func TestSampleRows(t *testing.T) {
	for _, tc := range []struct{ n, size int }{{10, 4}, {1000, 50}, {5, 5}, {3, 10}} {
		got := sampleRows(tc.n, tc.size, 1)
		if len(got) != min(tc.n, tc.size) {
			t.Fatalf("sampleRows(%d, %d) has %d rows", tc.n, tc.size, len(got))
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) || got[0] < 0 || got[len(got)-1] >= tc.n {
			t.Errorf("sampleRows(%d, %d) = %v: want distinct sorted rows of 0..%d", tc.n, tc.size, got, tc.n-1)
		}
		if !slices.Equal(got, sampleRows(tc.n, tc.size, 1)) {
			t.Errorf("sampleRows(%d, %d) changes with the same seed", tc.n, tc.size)
		}
	}
	if slices.Equal(sampleRows(1000, 50, 1), sampleRows(1000, 50, 2)) {
		t.Error("the seed does not change the sample")
	}
}

// The segmentation does not depend on the order customers come in: the
// same customers shuffled, some of them with the very same values (ties
// the sample must break the same way), get the same segments, labels and
// distances, on a sample smaller than the input.
func TestMicroIgnoresInputOrder(t *testing.T) {
	in, _ := plant(plantedGroups(), 3)
	for i := 0; i < 30; i += 3 { // ten pairs of twins
		in.Values[i+1] = slices.Clone(in.Values[i])
	}
	opts := DefaultOptions()
	opts.FitSample = 60
	opts.SilhouetteSample = 40
	want, err := Micro(context.Background(), in, opts, 11)
	if err != nil {
		t.Fatal(err)
	}
	perm := rand.New(rand.NewPCG(4, 2)).Perm(len(in.Customers))
	shuffled := MicroInput{Columns: in.Columns}
	for _, i := range perm {
		shuffled.Customers = append(shuffled.Customers, in.Customers[i])
		shuffled.Values = append(shuffled.Values, in.Values[i])
	}
	got, err := Micro(context.Background(), shuffled, opts, 11)
	if err != nil {
		t.Fatal(err)
	}
	if got.K != want.K || !reflect.DeepEqual(got.Scores, want.Scores) {
		t.Fatalf("k %d, scores %v; in input order k %d, scores %v", got.K, got.Scores, want.K, want.Scores)
	}
	for k, i := range perm {
		if got.Labels[k] != want.Labels[i] || got.Distances[k] != want.Distances[i] {
			t.Fatalf("customer %s: segment %d at %v shuffled, %d at %v in order", in.Customers[i],
				got.Labels[k], got.Distances[k], want.Labels[i], want.Distances[i])
		}
	}
}

// Customers with the same values keep their input order among themselves.
func TestCanonicalInputKeepsTiesInOrder(t *testing.T) {
	in := MicroInput{Customers: []string{"a", "b", "c", "d", "e"},
		Values: [][]float64{{1, 2}, {0, 5}, {1, 2}, {math.NaN(), 1}, {0, 5}}}
	got, idx := canonicalInput(in)
	if want := []int{3, 1, 4, 0, 2}; !slices.Equal(idx, want) {
		t.Fatalf("order %v, want %v", idx, want)
	}
	if want := []string{"d", "b", "e", "a", "c"}; !slices.Equal(got.Customers, want) {
		t.Fatalf("customers %v, want %v", got.Customers, want)
	}
}
