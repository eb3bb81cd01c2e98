package segments

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/parcours/parcours/internal/warehouse"
)

// microByGroup reads each planted group's micro id (every member of a
// group must share it) and each id's published label, of date.
func (w *world) microByGroup(date string, in MicroInput, truth []string) (ids map[string]string, labels map[string]string) {
	w.t.Helper()
	got := w.members(date, FamilyMicro)
	ids = map[string]string{}
	for i, ck := range in.Customers {
		m, ok := got[ck]
		if !ok {
			w.t.Fatalf("%s: %s is in no micro segment", date, ck)
		}
		if id, seen := ids[truth[i]]; seen && id != m.Segment {
			w.t.Fatalf("%s: group %s split between %s and %s", date, truth[i], id, m.Segment)
		}
		ids[truth[i]] = m.Segment
	}
	labels = map[string]string{}
	for key, p := range w.profiles(date) {
		labels[key] = p.Label
	}
	return ids, labels
}

// centroids reads ops.segment_centroids of date: id -> shift (NaN: new).
func (w *world) centroids(date string) map[string]float64 {
	w.t.Helper()
	rows, err := w.wh.DB.Query(`SELECT segment, coalesce(shift, 'NaN'), len(centroid), len(features), label
FROM ops.segment_centroids WHERE computed_on = CAST(? AS DATE) AND family = 'micro'`, date)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var s, label string
		var shift float64
		var nc, nf int
		if err := rows.Scan(&s, &shift, &nc, &nf, &label); err != nil {
			w.t.Fatal(err)
		}
		if nc != len(microFeatures()) || nf != nc || label == "" {
			w.t.Errorf("%s %s: %d coordinates, %d features, label %q", date, s, nc, nf, label)
		}
		out[s] = shift
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// Micro ids follow their clusters from night to night: a slightly changed
// second night keeps ids and labels; a third night where the app group
// has become the largest (so by size it would be micro_1) still calls it
// what it was called; a re-run of a night changes nothing.
func TestMicroIDsStableAcrossNights(t *testing.T) {
	const night1, night2, night3 = "2026-06-08", "2026-06-09", "2026-06-10"
	w := newWorld(t)
	w.cfg.Privacy.K = 1
	in, truth := w.plantMicro(night1, 11)
	w.compute(night1)
	ids1, labels1 := w.microByGroup(night1, in, truth)
	want := map[string]string{"store": "micro_1", "web": "micro_2", "app": "micro_3"} // by size on the first night
	for g, id := range want {
		if ids1[g] != id {
			t.Fatalf("night 1: group %s is %s, want %s (%v)", g, ids1[g], id, ids1)
		}
	}
	for id, shift := range w.centroids(night1) {
		if !math.IsNaN(shift) {
			t.Errorf("night 1: %s has a shift %v, want none (new)", id, shift)
		}
	}

	// Night 2: a day older, a little more of everything.
	for i, ck := range in.Customers {
		v := in.Values[i]
		w.features(night2, ck, []float64{v[0] + 1, v[1], v[2] * 1.01, v[3] * 1.02, v[4], v[5], v[6], v[7] + float64(i%2), v[8]})
	}
	res2 := w.compute(night2)
	ids2, labels2 := w.microByGroup(night2, in, truth)
	for g, id := range ids1 {
		if ids2[g] != id {
			t.Errorf("night 2: group %s is %s, was %s", g, ids2[g], id)
		}
	}
	for key, l := range labels1 {
		if labels2[key] != l {
			t.Errorf("night 2: %s labelled %q, was %q", key, labels2[key], l)
		}
	}
	for _, s := range res2.Micro.Segments {
		if !s.Matched || s.Shift > 0.5 {
			t.Errorf("night 2: %s matched %v, shift %v", s.Name, s.Matched, s.Shift)
		}
	}
	for id, shift := range w.centroids(night2) {
		if math.IsNaN(shift) {
			t.Errorf("night 2: %s new, want matched", id)
		}
	}

	// Night 3: 45 more app customers; the app group (70) outgrows the store (60).
	groups := plantedGroups()
	groups[2].size = 70
	in3, truth3 := plant(groups, 11)
	for i, ck := range in3.Customers {
		if i >= len(in.Customers) {
			w.consent(ck)
		}
		w.features(night3, ck, in3.Values[i])
	}
	res3 := w.compute(night3)
	if res3.Micro == nil || res3.Micro.K != 3 {
		t.Fatalf("night 3: %+v", res3.Micro)
	}
	if s := res3.Micro.Segments[0]; s.Size != 70 || s.Name != "micro_3" {
		t.Errorf("night 3: the largest cluster is %s of %d, want micro_3 of 70", s.Name, s.Size)
	}
	ids3, labels3 := w.microByGroup(night3, in3, truth3)
	for g, id := range ids1 {
		if ids3[g] != id {
			t.Errorf("night 3: group %s is %s, was %s", g, ids3[g], id)
		}
	}
	t.Logf("labels night 1 %v, night 3 %v; shifts %v", labels1, labels3, w.centroids(night3))

	// Re-running night 2 after night 3 gives night 2 again.
	ctx := context.Background()
	sum := func() [3]warehouse.Checksum {
		var out [3]warehouse.Checksum
		for i, tbl := range []string{"analytics.segment_members", "cold.segment_profiles", "ops.segment_centroids"} {
			c, err := warehouse.TableChecksum(ctx, w.wh.DB, tbl)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = c
		}
		return out
	}
	before := sum()
	w.compute(night2)
	if after := sum(); after != before {
		t.Errorf("re-running night 2 changed the tables: %+v, then %+v", before, after)
	}
}

// A cluster that appears gets a number never used, even when the id of a
// retired cluster is free; the one that disappeared is not given to it.
func TestMicroNewClusterGetsFreshID(t *testing.T) {
	const night1, night2 = "2026-06-09", "2026-06-10"
	w := newWorld(t)
	w.cfg.Privacy.K = 1
	in, truth := w.plantMicro(night1, 11)
	w.compute(night1)
	ids1, _ := w.microByGroup(night1, in, truth)
	// Night 2: the web group is gone; a group of heavy email openers who
	// buy on the web and in store alike, with big baskets, appears.
	groups := plantedGroups()
	groups[1] = plantedGroup{name: "mixed", size: 40, web: 0.5, app: 0, store: 0.5, basket: 400, sessions: 60, openRate: 0.95}
	in2, truth2 := plant(groups, 12)
	for i, ck := range in2.Customers {
		if truth2[i] == "mixed" {
			w.consent(ck)
		}
		w.features(night2, ck, in2.Values[i])
	}
	res := w.compute(night2)
	if res.Micro == nil || res.Micro.K != 3 {
		t.Fatalf("night 2: %+v", res.Micro)
	}
	ids2, labels2 := w.microByGroup(night2, in2, truth2)
	if ids2["store"] != ids1["store"] || ids2["app"] != ids1["app"] {
		t.Errorf("night 2: store %s app %s, were %s %s", ids2["store"], ids2["app"], ids1["store"], ids1["app"])
	}
	if ids2["mixed"] != "micro_4" {
		t.Errorf("night 2: the new group is %s, want micro_4 (micro_2 retired with the web group)", ids2["mixed"])
	}
	if shifts := w.centroids(night2); !math.IsNaN(shifts["micro_4"]) || len(shifts) != 3 {
		t.Errorf("night 2 centroids %v", shifts)
	}
	t.Logf("night 2 labels %v", labels2)
}

// Between two weekly choices a night keeps the number of micro-segments,
// even when a new group would make the silhouette choose another; the
// weekly choice then finds it.
func TestMicroKeepsKBetweenChoices(t *testing.T) {
	// 2026-11-20 and 2026-11-21 are days 1 and 2 of a 7-day cycle whose
	// day 0 is 2026-11-26.
	const night1, night2, night3 = "2026-11-20", "2026-11-21", "2026-11-26"
	w := newWorld(t)
	w.cfg.Privacy.K = 1
	in, _ := w.plantMicro(night1, 11)
	if r := w.compute(night1); r.Micro == nil || r.Micro.K != 3 || !r.Micro.Chosen {
		t.Fatalf("night 1: %+v", r.Micro)
	}
	groups := append(plantedGroups(), plantedGroup{name: "mixed", size: 40, web: 0.5, app: 0, store: 0.5, basket: 400, sessions: 60, openRate: 0.95})
	in4, _ := plant(groups, 12)
	for i, ck := range in4.Customers {
		if i >= len(in.Customers) {
			w.consent(ck)
		}
		w.features(night2, ck, in4.Values[i])
		w.features(night3, ck, in4.Values[i])
	}
	r2 := w.compute(night2)
	if r2.Micro == nil || r2.Micro.K != 3 || r2.Micro.Chosen || len(r2.Micro.Scores) != 1 {
		t.Errorf("night 2: k %d chosen %v scores %v, want 3 kept from night 1", r2.Micro.K, r2.Micro.Chosen, r2.Micro.Scores)
	}
	r3 := w.compute(night3)
	if r3.Micro == nil || r3.Micro.K != 4 || !r3.Micro.Chosen {
		t.Errorf("night 3: k %d chosen %v, want 4 chosen by the silhouette", r3.Micro.K, r3.Micro.Chosen)
	}
	// Choosing every night, night 2 finds the fourth group.
	w.cfg.Segments.ChooseKEveryDays = 1
	if r := w.compute(night2); r.Micro.K != 4 || !r.Micro.Chosen {
		t.Errorf("night 2 choosing every night: k %d chosen %v, want 4", r.Micro.K, r.Micro.Chosen)
	}
}

// A kept k is fitted as the silhouette's search fits that k: the same
// centres and assignments as the search that chose it.
func TestMicroKFitsAsTheSearch(t *testing.T) {
	in, _ := plant(plantedGroups(), 3)
	chosen, err := Micro(context.Background(), in, DefaultOptions(), 42)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := MicroK(context.Background(), in, DefaultOptions(), 42, chosen.K)
	if err != nil {
		t.Fatal(err)
	}
	if !chosen.Chosen || kept.Chosen || kept.K != chosen.K || len(kept.Scores) != 1 {
		t.Fatalf("chosen %v k %d, kept %v k %d scores %v", chosen.Chosen, chosen.K, kept.Chosen, kept.K, kept.Scores)
	}
	if !slices.Equal(kept.Labels, chosen.Labels) {
		t.Error("a kept k assigns customers otherwise than the search")
	}
	for i := range kept.Segments {
		if !slices.Equal(kept.Segments[i].Centroid, chosen.Segments[i].Centroid) || kept.Segments[i].Label != chosen.Segments[i].Label {
			t.Errorf("cluster %d: %v %q, the search %v %q", i, kept.Segments[i].Centroid, kept.Segments[i].Label,
				chosen.Segments[i].Centroid, chosen.Segments[i].Label)
		}
	}
	// A k outside [k_min, k_max] is not kept: the silhouette chooses.
	if r, err := MicroK(context.Background(), in, DefaultOptions(), 42, 99); err != nil || !r.Chosen || r.K != chosen.K {
		t.Errorf("k 99: %v", err)
	}
}
