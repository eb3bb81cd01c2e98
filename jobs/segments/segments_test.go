package segments

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/parcours/parcours/internal/warehouse"
)

// rfmCustomer is a hand-built purchaser: n orders, the latest daysBefore
// the run day, total spend, and the scores and segment that follow.
type rfmCustomer struct {
	ck                string
	daysBefore, n     int
	total             float64
	r, f, m           int
	segment           string
	recency, monetary float64
}

// rfmFixture is ten purchasers with distinct recency, frequency and spend,
// so each quintile holds two of them (ranks 1-2 score 1, ..., 9-10 score
// 5), chosen to land in eight different segments.
func rfmFixture() []rfmCustomer {
	return []rfmCustomer{
		{"a", 0, 9, 90, 5, 5, 5, RFMChampions, 1, 90},
		{"b", 1, 1, 10, 5, 1, 1, RFMNew, 2, 10},
		{"c", 5, 7, 70, 4, 4, 4, RFMLoyal, 6, 70},
		{"d", 6, 3, 20, 4, 2, 1, RFMPotentialLoyalists, 7, 20},
		{"e", 20, 5, 50, 3, 3, 3, RFMNeedAttention, 21, 50},
		{"f", 21, 4, 30, 3, 2, 2, RFMAboutToSleep, 22, 30},
		{"g", 50, 8, 100, 2, 4, 5, RFMCantLoseThem, 51, 100},
		{"h", 51, 6, 80, 2, 3, 4, RFMAtRisk, 52, 80},
		{"i", 100, 2, 40, 1, 1, 2, RFMLost, 101, 40},
		{"j", 101, 10, 60, 1, 5, 3, RFMAtRisk, 102, 60},
	}
}

func (w *world) plantRFM() {
	w.t.Helper()
	for _, c := range rfmFixture() {
		w.consent(c.ck)
		w.orders(c.ck, c.daysBefore, c.n, c.total)
	}
	// Outside the windows: b's order of 400 days ago is too old for F and
	// M; i's order of the day after the run day is not counted at all.
	w.order("b", "b-old", "2025-05-06", 1000)
	w.order("i", "i-next", "2026-06-11", 1000)
}

func TestRFMQuintilesAndSegments(t *testing.T) {
	w := newWorld(t)
	w.plantRFM()
	w.compute(runDay)
	got := w.members(runDay, FamilyRFM)
	if len(got) != 10 {
		t.Fatalf("%d rfm members, want 10", len(got))
	}
	for _, c := range rfmFixture() {
		m := got[c.ck]
		if m.Segment != c.segment {
			t.Errorf("%s: segment %s, want %s", c.ck, m.Segment, c.segment)
		}
		if want := float64(100*c.r + 10*c.f + c.m); m.Score.Float64 != want {
			t.Errorf("%s: score %v, want %v", c.ck, m.Score.Float64, want)
		}
		for k, want := range map[string]float64{"r": float64(c.r), "f": float64(c.f), "m": float64(c.m),
			"fm": float64(FM(c.f, c.m)), "recency_days": c.recency, "frequency_365d": float64(c.n), "monetary_365d": c.monetary} {
			if m.Detail[k] != want {
				t.Errorf("%s: detail %s = %v, want %v", c.ck, k, m.Detail[k], want)
			}
		}
	}
}

// Equal values share a score: the first of the tie's rank decides.
func TestRFMTies(t *testing.T) {
	w := newWorld(t)
	// Same last day and spend for all; frequencies 1, 1, 1, 2, 3.
	for i, n := range []int{1, 1, 1, 2, 3} {
		ck := string(rune('p' + i))
		w.consent(ck)
		w.orders(ck, 3, n, 50)
	}
	w.compute(runDay)
	got := w.members(runDay, FamilyRFM)
	// Ranks by frequency 1, 1, 1, 4, 5 of 5: F = 1 + floor(5 (rank-1) / 5).
	for ck, want := range map[string]struct {
		score   float64
		segment string
	}{
		"p": {111, RFMLost}, "q": {111, RFMLost}, "r": {111, RFMLost},
		"s": {141, RFMAtRisk}, // FM (4+1)/2 rounds up to 3
		"t": {151, RFMAtRisk},
	} {
		if m := got[ck]; m.Score.Float64 != want.score || m.Segment != want.segment {
			t.Errorf("%s: %v %s, want %v %s", ck, m.Score.Float64, m.Segment, want.score, want.segment)
		}
	}
}

func TestValueRiskAndPropensity(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		ck          string
		clv, p, p30 float64
	}{
		{"v1", 100, 0.9, 0.5},   // low value, high risk; exactly the propensity threshold: likely
		{"v2", 200, 0.1, 0.49},  // low value, low risk; just under: unlikely
		{"v3", 300, 0.6, 2},     // the median and exactly risk_high: high value, high risk
		{"v4", 400, 0.59, 0},    // high value, just under risk_high
		{"v5", 500, 0.7, 0.1},   // high value, high risk
		{"v6", 10000, 0.1, 9.0}, // not consented: must not move the median either
	} {
		if tc.ck != "v6" {
			w.consent(tc.ck)
		}
		w.clv(runDay, tc.ck, tc.clv, tc.p30)
		w.churn(runDay, tc.ck, tc.p)
	}
	// Scores of another day do not count.
	w.consent("v7")
	w.clv("2026-06-09", "v7", 1000, 3)
	w.churn("2026-06-09", "v7", 0.9)
	w.compute(runDay)

	vr := w.members(runDay, FamilyValueRisk)
	want := map[string]string{"v1": LowValueHighRisk, "v2": LowValueLowRisk, "v3": HighValueHighRisk,
		"v4": HighValueLowRisk, "v5": HighValueHighRisk}
	if !slices.Equal(slices.Sorted(maps.Keys(vr)), slices.Sorted(maps.Keys(want))) {
		t.Fatalf("value_risk members %v, want %v", slices.Sorted(maps.Keys(vr)), slices.Sorted(maps.Keys(want)))
	}
	for ck, seg := range want {
		if vr[ck].Segment != seg {
			t.Errorf("%s: %s, want %s", ck, vr[ck].Segment, seg)
		}
	}
	v4 := vr["v4"]
	if v4.Detail["clv"] != 400.0 || v4.Detail["churn_probability"] != 0.59 || v4.Detail["clv_threshold"] != 300.0 ||
		v4.Detail["risk_band"] != "medium" || !approx(v4.Score.Float64, 400*0.59, 1e-9) {
		t.Errorf("v4: score %v detail %v", v4.Score.Float64, v4.Detail)
	}

	pr := w.members(runDay, FamilyPropensity)
	for ck, seg := range map[string]string{"v1": LikelyToBuy30d, "v2": UnlikelyToBuy30d, "v3": LikelyToBuy30d,
		"v4": UnlikelyToBuy30d, "v5": UnlikelyToBuy30d} {
		if pr[ck].Segment != seg {
			t.Errorf("propensity %s: %s, want %s", ck, pr[ck].Segment, seg)
		}
	}
	if len(pr) != 5 || pr["v3"].Score.Float64 != 2 || pr["v3"].Detail["purchases_30d"] != 2.0 {
		t.Errorf("propensity: %d members, v3 %+v", len(pr), pr["v3"])
	}
}

// A customer is in a segment only with an analytics consent valid at the
// end of the run's day and no objection (to profiling or marketing, or a
// contested decision), whatever orders, scores and features remain.
func TestConsentExclusion(t *testing.T) {
	w := newWorld(t)
	everyone := []string{"open", "from_now", "renewed", "withdrawn", "ends_now", "later", "email_only", "objects", "contests"}
	w.consent("open", "objects", "contests")
	w.exec("INSERT INTO consent.objecting VALUES ('objects', 'marketing'), ('contests', 'contest')")
	w.interval("from_now", "analytics", endOfDay, "") // valid_from <= now: in
	w.interval("renewed", "analytics", "2025-01-01 00:00:00+00", "2026-03-01 00:00:00+00")
	w.interval("renewed", "analytics", "2026-04-01 00:00:00+00", "") // in, once
	w.interval("withdrawn", "analytics", "2025-01-01 00:00:00+00", "2026-06-10 12:00:00+00")
	w.interval("ends_now", "analytics", "2025-01-01 00:00:00+00", endOfDay)   // now < valid_to fails: out
	w.interval("later", "analytics", "2026-06-10 22:00:01+00", "")            // after the day: out
	w.interval("email_only", "marketing_email", "2025-01-01 00:00:00+00", "") // another purpose: out
	for i, ck := range everyone {
		w.orders(ck, i, i+1, 10*float64(i+1))
		w.clv(runDay, ck, 100*float64(i+1), 0.2*float64(i))
		w.churn(runDay, ck, 0.1*float64(i))
		w.features(runDay, ck, []float64{float64(i + 1), float64(i + 1), 10, 10, 1, 0, 0, float64(i), 0.5})
	}
	res := w.compute(runDay)
	if res.Consented != 3 {
		t.Errorf("%d consented customers, want 3", res.Consented)
	}
	in := []string{"from_now", "open", "renewed"}
	for _, f := range Families() {
		if got := slices.Sorted(maps.Keys(w.members(runDay, f))); !slices.Equal(got, in) {
			t.Errorf("family %s holds %v, want %v", f, got, in)
		}
	}
}

func TestMicroSegmentsAndColdProfiles(t *testing.T) {
	w := newWorld(t)
	w.cfg.Privacy.K = 30 // the app group (25) is too small to publish
	in, truth := w.plantMicro(runDay, 11)
	w.features(runDay, "no-consent", []float64{1, 1, 1, 1, 1, 0, 0, 1, 1})
	res := w.compute(runDay)
	if res.Micro == nil {
		t.Fatalf("micro skipped: %v", res.Skipped)
	}
	got := w.members(runDay, FamilyMicro)
	if len(got) != len(truth) {
		t.Fatalf("%d micro members, want %d (the customer without consent left out)", len(got), len(truth))
	}
	checkRecovered(t, res.Micro, truth, func(i int) string { return got[in.Customers[i]].Segment })
	// The job read customers in key order.
	at := slices.Index(slices.Sorted(slices.Values(in.Customers)), in.Customers[0])
	if m := got[in.Customers[0]]; m.Detail["share_store"] != in.Values[0][6] || m.Score.Float64 != res.Micro.Distances[at] {
		t.Errorf("%s: %+v, want share_store %v and score %v", in.Customers[0], m, in.Values[0][6], res.Micro.Distances[at])
	}
	// An app customer without an open rate keeps it missing in its detail.
	if m := got[in.Customers[100]]; m.Detail["email_open_rate_90d"] != nil {
		t.Errorf("%s: open rate %v, want null", in.Customers[100], m.Detail["email_open_rate_90d"])
	}

	prof := w.profiles(runDay)
	if len(prof) != 2 {
		t.Fatalf("published %v, want micro_1 and micro_2 only", slices.Sorted(maps.Keys(prof)))
	}
	p1 := prof["micro:micro_1"]
	mean := 0.0
	for i := 0; i < 60; i++ {
		mean += in.Values[i][6] / 60
	}
	if p1.Customers != 60 || !approx(p1.Profile["share_store"], mean, 5e-5) ||
		!strings.Contains(p1.Description, "high share of purchases in store") {
		t.Errorf("micro_1 profile %+v, want 60 customers, share_store %.4f, words about the store", p1, mean)
	}
	if _, ok := prof["micro:micro_3"]; ok {
		t.Error("micro_3 (25 customers) published with k = 30")
	}
	var k, published, suppressed int64
	if err := w.wh.DB.QueryRow(`SELECT k, published_rows, suppressed_cells FROM cold.suppressed_cells
WHERE cold_table = 'segment_profiles'`).Scan(&k, &published, &suppressed); err != nil {
		t.Fatal(err)
	}
	if k != 30 || published != 2 || suppressed != 1 || res.Published != 2 || res.Suppressed != 1 {
		t.Errorf("suppressed_cells k %d published %d suppressed %d; result %d %d", k, published, suppressed, res.Published, res.Suppressed)
	}
}

func TestRFMProfilesAreMeans(t *testing.T) {
	w := newWorld(t)
	w.cfg.Privacy.K = 2
	w.plantRFM()
	w.compute(runDay)
	prof := w.profiles(runDay)
	// at_risk is h and j; every other segment has one customer: suppressed.
	if len(prof) != 1 {
		t.Fatalf("published %v, want rfm:at_risk only", slices.Sorted(maps.Keys(prof)))
	}
	p := prof["rfm:at_risk"]
	want := map[string]float64{"r": 1.5, "f": 4, "m": 3.5, "fm": 4, "recency_days": 77, "frequency_365d": 8, "monetary_365d": 70}
	if p.Customers != 2 || !maps.Equal(p.Profile, want) || p.Description != rfmWords()[RFMAtRisk] {
		t.Errorf("rfm:at_risk %+v, want 2 customers, profile %v", p, want)
	}
}

func TestRerunIsIdempotent(t *testing.T) {
	w := newWorld(t)
	w.cfg.Privacy.K = 2
	w.plantRFM()
	w.plantMicro(runDay, 2)
	for _, ck := range []string{"a", "b", "c", "d"} {
		w.clv(runDay, ck, 100, 1)
		w.churn(runDay, ck, 0.5)
	}
	ctx := context.Background()
	sums := func() [2]warehouse.Checksum {
		var out [2]warehouse.Checksum
		for i, tbl := range []string{"analytics.segment_members", "cold.segment_profiles"} {
			c, err := warehouse.TableChecksum(ctx, w.wh.DB, tbl)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = c
		}
		return out
	}
	first := w.run(runDay)
	once := sums()
	second := w.run(runDay)
	if twice := sums(); twice != once {
		t.Errorf("a re-run changed the tables: %+v, then %+v", once, twice)
	}
	if want := int64(10 + 4 + 4 + 125); once[0].Rows != want || first.Out != want {
		t.Errorf("%d rows, counts say %d; want %d", once[0].Rows, first.Out, want)
	}
	// Both runs compare with the same previous day (none: everyone entered).
	if !maps.Equal(first.Detail, second.Detail) || first.Detail["rfm:at_risk:entered"] != 2 || first.Detail["rfm:at_risk:left"] != 0 {
		t.Errorf("counts: first %v, second %v", first.Detail, second.Detail)
	}
}

// Each day is kept; the diff counts who entered and left each segment
// since the previous computed day, including a family that is skipped.
func TestDiffBetweenDays(t *testing.T) {
	w := newWorld(t)
	const day1 = "2026-06-07" // the previous computed day: 06-08 and 06-09 were not run
	w.consent("p1", "p2", "p3", "p4")
	for _, s := range []struct {
		ck  string
		p30 float64
	}{{"p1", 1}, {"p2", 1}, {"p3", 0.1}} {
		w.clv(day1, s.ck, 100, s.p30)
		w.churn(day1, s.ck, 0.2)
	}
	// Day 2: p2 drops to unlikely, p3 has no score, p4 is new; no churn
	// model, so value_risk is skipped and its members all left.
	for _, s := range []struct {
		ck  string
		p30 float64
	}{{"p1", 2}, {"p2", 0.2}, {"p4", 0.7}} {
		w.clv(runDay, s.ck, 100, s.p30)
	}
	c1 := w.run(day1)
	if c1.Detail["propensity:likely_to_buy_30d:entered"] != 2 || c1.Detail["value_risk"] != 3 {
		t.Errorf("day 1 counts %v", c1.Detail)
	}
	c2 := w.run(runDay)
	for key, want := range map[string]int64{
		"propensity:likely_to_buy_30d": 2, "propensity:likely_to_buy_30d:entered": 1, "propensity:likely_to_buy_30d:left": 1,
		"propensity:unlikely_to_buy_30d": 1, "propensity:unlikely_to_buy_30d:entered": 1, "propensity:unlikely_to_buy_30d:left": 1,
		"value_risk:high_value_low_risk": 0, "value_risk:high_value_low_risk:left": 3, "value_risk": 0,
		"skipped:value_risk": 1, "skipped:micro": 1, "propensity": 3, "rfm": 0,
	} {
		if got, ok := c2.Detail[key]; !ok || got != want {
			t.Errorf("day 2 %s = %d (present %v), want %d", key, got, ok, want)
		}
	}
	if _, ok := c2.Detail["skipped:propensity"]; ok {
		t.Error("propensity reported skipped with CLV scores present")
	}
	if len(w.members(day1, FamilyPropensity)) != 3 || len(w.members(day1, FamilyValueRisk)) != 3 {
		t.Error("day 1 was not kept")
	}
	conn, err := w.wh.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	changes, err := Diff(context.Background(), w.wh, conn, day(runDay))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.PreviousOn != day(day1) {
			t.Errorf("%s:%s compared with %v, want %s", c.Family, c.Segment, c.PreviousOn, day1)
		}
		if c.Family == FamilyPropensity && c.Segment == LikelyToBuy30d && (c.Members != 2 || c.PreviousMembers != 2) {
			t.Errorf("likely_to_buy_30d: %+v", c)
		}
	}
	if len(changes) != 3 {
		t.Errorf("%d segments in the diff, want likely, unlikely and high_value_low_risk: %+v", len(changes), changes)
	}
}
