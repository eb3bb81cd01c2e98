package segments

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parcours/parcours/models/cluster"
)

func TestSegmentLabels(t *testing.T) {
	for _, tc := range []struct{ family, segment, want string }{
		{FamilyRFM, RFMChampions, "Champions"},
		{FamilyRFM, RFMLoyal, "Loyal customers"},
		{FamilyRFM, RFMPotentialLoyalists, "Potential loyalists"},
		{FamilyRFM, RFMNew, "New customers"},
		{FamilyRFM, RFMPromising, "Promising"},
		{FamilyRFM, RFMNeedAttention, "Need attention"},
		{FamilyRFM, RFMAboutToSleep, "About to sleep"},
		{FamilyRFM, RFMAtRisk, "At risk"},
		{FamilyRFM, RFMCantLoseThem, "Can't lose them"},
		{FamilyRFM, RFMHibernating, "Hibernating"},
		{FamilyRFM, RFMLost, "Lost"},
		{FamilyValueRisk, HighValueLowRisk, "High value, low risk"},
		{FamilyValueRisk, HighValueHighRisk, "High value, high risk"},
		{FamilyValueRisk, LowValueLowRisk, "Low value, low risk"},
		{FamilyValueRisk, LowValueHighRisk, "Low value, high risk"},
		{FamilyPropensity, LikelyToBuy30d, "Likely to buy (30 days)"},
		{FamilyPropensity, UnlikelyToBuy30d, "Unlikely to buy (30 days)"},
	} {
		if got, ok := SegmentLabel(tc.family, tc.segment); !ok || got != tc.want {
			t.Errorf("SegmentLabel(%s, %s) = %q, %v; want %q", tc.family, tc.segment, got, ok, tc.want)
		}
	}
	if l, ok := SegmentLabel(FamilyMicro, "micro_1"); ok {
		t.Errorf("a micro segment has the fixed label %q", l)
	}
	// Every RFM id of the grid has a label, and every staged rule-based
	// segment has a label unique in its family.
	grid := rfmGrid()
	for _, row := range grid {
		for _, s := range row {
			if _, ok := SegmentLabel(FamilyRFM, s); !ok {
				t.Errorf("rfm segment %s of the grid has no label", s)
			}
		}
	}
	seen := map[string]string{}
	rows := fixedWords(DefaultOptions(), 0.6)
	if len(rows) != len(RFMSegments())+4+2 {
		t.Errorf("%d staged words, want every rfm, value_risk and propensity segment", len(rows))
	}
	for _, r := range rows {
		f, s, label := r[0].(string), r[1].(string), r[3].(string)
		if label == "" || utf8.RuneCountInString(label) > MaxLabel {
			t.Errorf("%s:%s label %q", f, s, label)
		}
		if other, dup := seen[f+"|"+label]; dup {
			t.Errorf("%s:%s and %s share the label %q", f, s, other, label)
		}
		seen[f+"|"+label] = s
	}
}

func TestFeatureLabel(t *testing.T) {
	for _, tc := range []struct{ key, label, unit string }{
		{"monetary_365d", "Spend, last 365 days", UnitCurrency},
		{"recency_days", "Days since last purchase", UnitDays},
		{"f", "Frequency score (1–5)", ""},
		{"fm", "Frequency-monetary score (1–5)", ""},
		{"frequency_365d", "Purchases, last 365 days", UnitPurchases},
		{"churn_probability", "Churn probability", UnitProbability},
		{"share_app", "Share of purchases in the app", UnitShare},
		{"sessions_90d", "Web sessions, last 90 days", UnitSessions},
		{"not_a_key", "not_a_key", ""},
	} {
		if l, u := FeatureLabel(tc.key); l != tc.label || u != tc.unit {
			t.Errorf("FeatureLabel(%q) = %q, %q; want %q, %q", tc.key, l, u, tc.label, tc.unit)
		}
	}
	// Every key a family's profile holds is labelled, and every label is
	// some family's key.
	known := featureLabels()
	used := map[string]bool{}
	for _, f := range Families() {
		keys := ProfileKeys(f)
		if len(keys) == 0 {
			t.Errorf("family %s has no profile keys", f)
		}
		for _, k := range keys {
			used[k] = true
			if _, ok := known[k]; !ok {
				t.Errorf("profile key %s of %s has no label", k, f)
			}
		}
	}
	for k := range known {
		if !used[k] {
			t.Errorf("label for %s, which no family's profile holds", k)
		}
	}
}

// Every key the profiles of a computation hold has a label and belongs to
// its family's ProfileKeys; every published segment has its label.
func TestPublishedProfilesAreLabelled(t *testing.T) {
	w := newWorld(t)
	w.cfg.Privacy.K = 1
	w.plantRFM()
	w.plantMicro(runDay, 2)
	for i, ck := range []string{"a", "b", "c", "d"} {
		w.clv(runDay, ck, 100*float64(i+1), float64(i)/2)
		w.churn(runDay, ck, 0.3*float64(i))
	}
	res := w.compute(runDay)
	prof := w.profiles(runDay)
	families := map[string]bool{}
	for key, p := range prof {
		f, s, _ := strings.Cut(key, ":")
		families[f] = true
		if want, ok := SegmentLabel(f, s); ok && p.Label != want {
			t.Errorf("%s: label %q, want %q", key, p.Label, want)
		}
		if p.Label == "" {
			t.Errorf("%s has no label", key)
		}
		for k := range p.Profile {
			if !slices.Contains(ProfileKeys(f), k) {
				t.Errorf("%s: profile key %s is not in ProfileKeys(%s)", key, k, f)
			}
			if _, ok := featureLabels()[k]; !ok {
				t.Errorf("%s: profile key %s has no label", key, k)
			}
		}
	}
	if len(families) != 4 {
		t.Errorf("profiles of families %v, want all four", slices.Sorted(maps.Keys(families)))
	}
	for _, s := range res.Micro.Segments {
		if p := prof[FamilyMicro+":"+s.Name]; p.Label != s.Label {
			t.Errorf("%s: published label %q, computed %q", s.Name, p.Label, s.Label)
		}
	}
}

// dev is a deviation of feature (a column) by z.
func dev(feature string, z float64) cluster.Deviation {
	return cluster.Deviation{Feature: feature, Z: z}
}

func TestMicroLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		devs [][]cluster.Deviation // one cluster each, largest |z| first; named micro_1, micro_2...
		want []string
	}{
		{"adjective, channel and qualifier",
			[][]cluster.Deviation{{dev("share_app", 2), dev("frequency_365d", 1.2), dev("avg_basket", 0.8), dev("sessions_90d", 0.3)}},
			[]string{"Frequent app buyers, high basket"}},
		{"recency before frequency, whatever the deviations",
			[][]cluster.Deviation{{dev("frequency_365d", -1.9), dev("recency_days", 1.4), dev("share_store", 0.6)}},
			[]string{"Lapsed occasional store buyers"}},
		{"qualifiers alone; a second channel is left out",
			[][]cluster.Deviation{{dev("avg_basket", 1.1), dev("share_web", -0.9), dev("sessions_90d", -0.7)},
				{dev("share_web", 1.5), dev("share_store", 1.2), dev("sessions_90d", 1)}},
			[]string{"High basket, seldom on web, few visits", "Web buyers, many visits"}},
		{"nothing stands out",
			[][]cluster.Deviation{{dev("share_web", 0.2)}},
			[]string{"Average customers"}},
		{"same words: more features tell them apart",
			[][]cluster.Deviation{{dev("share_app", 2), dev("monetary_365d", 1), dev("sessions_90d", 0.3)},
				{dev("share_app", 1.8), dev("monetary_365d", 0.9), dev("sessions_90d", -0.3)}},
			[]string{"App buyers, high spend, many visits", "App buyers, high spend, few visits"}},
		{"same words all the way: the id's number",
			[][]cluster.Deviation{{dev("share_app", 2)}, {dev("share_app", 1.8)}, {dev("share_web", 1)}},
			[]string{"App buyers (1)", "App buyers (2)", "Web buyers"}},
		{"too long: the last words go",
			[][]cluster.Deviation{{dev("avg_basket", 1.1), dev("share_store", -0.9), dev("email_open_rate_90d", -0.7)}},
			[]string{"High basket, seldom in store"}},
		{"three words at most",
			[][]cluster.Deviation{{dev("recency_days", -2), dev("frequency_365d", 1.9), dev("share_store", 1.8),
				dev("email_open_rate_90d", -1.2)}},
			[]string{"Recent frequent store buyers"}},
	} {
		segs := make([]MicroSegment, len(tc.devs))
		for i, d := range tc.devs {
			segs[i] = MicroSegment{Name: MicroName(i), deviations: d}
		}
		microLabels(segs, nil)
		for i, s := range segs {
			if s.Label != tc.want[i] {
				t.Errorf("%s: cluster %d labelled %q, want %q", tc.name, i, s.Label, tc.want[i])
			}
			if n := utf8.RuneCountInString(s.Label); n > MaxLabel {
				t.Errorf("%s: %q has %d characters", tc.name, s.Label, n)
			}
		}
	}
}

func TestMicroNumber(t *testing.T) {
	for id, want := range map[string]int{"micro_1": 1, "micro_12": 12, "micro_0": 0, "micro_01": 0, "micro_x": 0, "rfm_1": 0, "micro_": 0} {
		if got := microNumber(id); got != want {
			t.Errorf("microNumber(%q) = %d, want %d", id, got, want)
		}
	}
}

// A cluster that keeps its id keeps its label while the label holds: a
// word wavering under labelMinZ stays, one that stops being true or a
// strong trait left out relabels it.
func TestMicroLabelsKept(t *testing.T) {
	type cl struct {
		matched  bool
		previous string
		devs     []cluster.Deviation
	}
	for _, tc := range []struct {
		name string
		segs []cl // named micro_1, micro_2...
		want []string
	}{
		{"a word wavering under labelMinZ stays",
			[]cl{{true, "Store buyers, seldom on web", []cluster.Deviation{dev("share_store", 1.5), dev("share_web", -0.4)}}},
			[]string{"Store buyers, seldom on web"}},
		{"a word under keepMinZ goes",
			[]cl{{true, "Store buyers, seldom on web", []cluster.Deviation{dev("share_store", 1.5), dev("share_web", -0.2)}}},
			[]string{"Store buyers"}},
		{"a word on the other side goes",
			[]cl{{true, "Store buyers, seldom on web", []cluster.Deviation{dev("share_store", 1.5), dev("share_web", 0.3)}}},
			[]string{"Store buyers"}},
		{"a word whose feature is gone",
			[]cl{{true, "Store buyers, few visits", []cluster.Deviation{dev("share_store", 1.5)}}},
			[]string{"Store buyers"}},
		{"a trait under strongZ does not relabel",
			[]cl{{true, "Store buyers", []cluster.Deviation{dev("share_store", 0.6), dev("frequency_365d", 0.9)}}},
			[]string{"Store buyers"}},
		{"a strong trait left out relabels",
			[]cl{{true, "Store buyers", []cluster.Deviation{dev("frequency_365d", 1.4), dev("share_store", 0.6)}}},
			[]string{"Frequent store buyers"}},
		{"a strong trait under twice the weakest word does not",
			[]cl{{true, "Store buyers", []cluster.Deviation{dev("share_store", 1.5), dev("frequency_365d", 1.2)}}},
			[]string{"Store buyers"}},
		{"another channel taking over relabels",
			[]cl{{true, "Store buyers", []cluster.Deviation{dev("share_web", 1.3), dev("share_store", 0.4)}}},
			[]string{"Web buyers"}},
		{"average until a strong trait",
			[]cl{{true, "Average customers", []cluster.Deviation{dev("share_web", 0.8)}},
				{true, "Average customers", []cluster.Deviation{dev("share_app", 1.1)}}},
			[]string{"Average customers", "App buyers"}},
		{"a new id is labelled afresh",
			[]cl{{false, "Store buyers, seldom on web", []cluster.Deviation{dev("share_store", 1.5), dev("share_web", -0.4)}}},
			[]string{"Store buyers"}},
		{"an unknown label is replaced",
			[]cl{{true, "Our best customers", []cluster.Deviation{dev("share_store", 1.5)}}},
			[]string{"Store buyers"}},
		{"the id suffix is kept with the label",
			[]cl{{true, "App buyers (1)", []cluster.Deviation{dev("share_app", 1.2)}}},
			[]string{"App buyers (1)"}},
		{"a kept label stays, the fresh one that has it moves",
			[]cl{{false, "", []cluster.Deviation{dev("share_app", 2), dev("sessions_90d", -0.3)}},
				{true, "App buyers", []cluster.Deviation{dev("share_app", 1.2), dev("sessions_90d", 0.3)}}},
			[]string{"App buyers, few visits", "App buyers"}},
		{"two kept labels alike are labelled afresh",
			[]cl{{true, "App buyers", []cluster.Deviation{dev("share_app", 2)}},
				{true, "App buyers", []cluster.Deviation{dev("share_web", 1)}}},
			[]string{"App buyers", "Web buyers"}},
	} {
		segs := make([]MicroSegment, len(tc.segs))
		previous := map[string]string{}
		for i, c := range tc.segs {
			segs[i] = MicroSegment{Name: MicroName(i), Matched: c.matched, deviations: c.devs}
			if c.previous != "" {
				previous[segs[i].Name] = c.previous
			}
		}
		microLabels(segs, previous)
		for i, s := range segs {
			if s.Label != tc.want[i] {
				t.Errorf("%s: cluster %d labelled %q, want %q", tc.name, i, s.Label, tc.want[i])
			}
		}
	}
}

// Every label renderLabel writes reads back as its words; texts it could
// not have written do not.
func TestParseLabel(t *testing.T) {
	var all []labelWord
	for _, f := range slices.Sorted(maps.Keys(labelVocabulary())) {
		p := labelVocabulary()[f]
		all = append(all, p[0], p[1])
	}
	key := func(ws []labelWord) string {
		var s []string
		for _, w := range ws {
			s = append(s, w.feature+"="+strconv.FormatBool(w.high))
		}
		slices.Sort(s)
		return strings.Join(s, " ")
	}
	n := 0
	// Every set of up to three words of distinct features and one channel.
	var walk func(from int, ws []labelWord)
	walk = func(from int, ws []labelWord) {
		for _, suffix := range []string{"", " (12)"} {
			l := renderLabel(ws, suffix)
			kept := ws // the words that fit in MaxLabel
			for len(kept) > 1 && renderWords(kept)+suffix != l {
				kept = kept[:len(kept)-1]
			}
			got, ok := parseLabel(l)
			if !ok || key(got) != key(kept) {
				t.Errorf("%q read back as %v, %v; want %s", l, key(got), ok, key(kept))
			}
			n++
		}
		if len(ws) == 3 {
			return
		}
	next:
		for i := from; i < len(all); i++ {
			for _, w := range ws {
				if w.feature == all[i].feature || (w.kind == kindChannel && all[i].kind == kindChannel) {
					continue next
				}
			}
			walk(i+1, append(slices.Clone(ws), all[i]))
		}
	}
	walk(0, nil)
	if n < 1000 {
		t.Errorf("only %d labels tried", n)
	}
	for _, l := range []string{"", "Champions", "Store buyers, purple", "Web app buyers", "Buyers", "Seldom on web buyers",
		"Web buyers, app", "Store buyers,few visits", "App buyers (0)"} {
		if ws, ok := parseLabel(l); ok {
			t.Errorf("%q read as %s", l, key(ws))
		}
	}
}
