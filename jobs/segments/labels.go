package segments

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parcours/parcours/models/cluster"
)

// MaxLabel is the longest a segment label gets, in characters.
const MaxLabel = 40

// The units of profile keys, as FeatureLabel returns them.
const (
	// UnitDays: a number of days.
	UnitDays = "days"
	// UnitCurrency: an amount in the warehouse's currency.
	UnitCurrency = "currency"
	// UnitPurchases: a number of purchases (orders).
	UnitPurchases = "purchases"
	// UnitSessions: a number of web sessions.
	UnitSessions = "sessions"
	// UnitShare: a fraction 0..1 of a whole (show as a percentage).
	UnitShare = "share"
	// UnitProbability: a probability 0..1 (show as a percentage).
	UnitProbability = "probability"
	// UnitScore: no unit; a 1..5 quintile score (5 = best) says so in its label.
	UnitScore = ""
)

// featureLabels names every key a segment profile (cold.segment_profiles.
// profile) can hold: the numeric keys of each family's member details.
func featureLabels() map[string][2]string {
	return map[string][2]string{
		// rfm
		"r":              {"Recency score (1–5)", UnitScore},
		"f":              {"Frequency score (1–5)", UnitScore},
		"m":              {"Monetary score (1–5)", UnitScore},
		"fm":             {"Frequency-monetary score (1–5)", UnitScore},
		"recency_days":   {"Days since last purchase", UnitDays},
		"frequency_365d": {"Purchases, last 365 days", UnitPurchases},
		"monetary_365d":  {"Spend, last 365 days", UnitCurrency},
		// value_risk
		"clv":               {"Customer lifetime value", UnitCurrency},
		"clv_threshold":     {"High-value threshold (CLV)", UnitCurrency},
		"churn_probability": {"Churn probability", UnitProbability},
		"risk_threshold":    {"High-risk threshold (churn probability)", UnitProbability},
		// propensity
		"purchases_30d": {"Expected purchases, next 30 days", UnitPurchases},
		"p_alive":       {"Probability still active", UnitProbability},
		// micro (and recency_days, frequency_365d, monetary_365d above)
		"avg_basket":          {"Average basket", UnitCurrency},
		"share_web":           {"Share of purchases on the web", UnitShare},
		"share_app":           {"Share of purchases in the app", UnitShare},
		"share_store":         {"Share of purchases in store", UnitShare},
		"sessions_90d":        {"Web sessions, last 90 days", UnitSessions},
		"email_open_rate_90d": {"Email open rate, last 90 days", UnitShare},
	}
}

// FeatureLabel returns the label people read and the unit (one of the
// Unit constants) of a segment profile key: "monetary_365d" is "Spend,
// last 365 days" in "currency", "f" is "Frequency score (1–5)" without a
// unit. A key it does not know comes back as its own label, without unit.
func FeatureLabel(key string) (label, unit string) {
	if l, ok := featureLabels()[key]; ok {
		return l[0], l[1]
	}
	return key, ""
}

// ProfileKeys lists the keys a family's profiles hold, in the order to
// show them (nil for an unknown family). A profile leaves out a key whose
// values are all missing.
func ProfileKeys(family string) []string {
	switch family {
	case FamilyRFM:
		return []string{"recency_days", "frequency_365d", "monetary_365d", "r", "f", "m", "fm"}
	case FamilyValueRisk:
		return []string{"clv", "churn_probability", "clv_threshold", "risk_threshold"}
	case FamilyPropensity:
		return []string{"purchases_30d", "p_alive"}
	case FamilyMicro:
		var keys []string
		for _, f := range microFeatures() {
			keys = append(keys, f.Column)
		}
		return keys
	}
	return nil
}

// fixedLabels names the segments of the rule-based families, by family
// then segment id.
func fixedLabels() map[string]map[string]string {
	return map[string]map[string]string{
		FamilyRFM: {
			RFMChampions:          "Champions",
			RFMLoyal:              "Loyal customers",
			RFMPotentialLoyalists: "Potential loyalists",
			RFMNew:                "New customers",
			RFMPromising:          "Promising",
			RFMNeedAttention:      "Need attention",
			RFMAboutToSleep:       "About to sleep",
			RFMAtRisk:             "At risk",
			RFMCantLoseThem:       "Can't lose them",
			RFMHibernating:        "Hibernating",
			RFMLost:               "Lost",
		},
		FamilyValueRisk: {
			HighValueLowRisk:  "High value, low risk",
			HighValueHighRisk: "High value, high risk",
			LowValueLowRisk:   "Low value, low risk",
			LowValueHighRisk:  "Low value, high risk",
		},
		FamilyPropensity: {
			LikelyToBuy30d:   "Likely to buy (30 days)",
			UnlikelyToBuy30d: "Unlikely to buy (30 days)",
		},
	}
}

// SegmentLabel returns the label of a segment of a rule-based family
// (rfm, value_risk, propensity): "rfm", "cant_lose_them" is "Can't lose
// them". Micro-segment labels are computed each night from the clusters;
// read them from cold.segment_profiles.label or ops.segment_centroids.
func SegmentLabel(family, segment string) (string, bool) {
	l, ok := fixedLabels()[family][segment]
	return l, ok
}

// labelKind is where a word goes in a micro label.
type labelKind int

const (
	kindAdjective labelKind = iota // before the noun: "Frequent"
	kindChannel                    // the noun's modifier: "app"
	kindQualifier                  // after a comma: "high basket"
)

// labelWord is one feature's contribution to a micro label.
type labelWord struct {
	kind    labelKind
	order   int // adjectives in this order, whatever their deviations
	text    string
	feature string // the column it speaks of
	high    bool   // it says the feature is high (else low)
}

// labelVocabulary is every feature's words: [0] when the feature is high,
// [1] when low. Each text is used once, so a label reads back
// (parseLabel).
func labelVocabulary() map[string][2]labelWord {
	v := map[string][2]labelWord{
		"recency_days":        {{kindAdjective, 0, "lapsed", "", true}, {kindAdjective, 0, "recent", "", false}},
		"frequency_365d":      {{kindAdjective, 1, "frequent", "", true}, {kindAdjective, 1, "occasional", "", false}},
		"monetary_365d":       {{kindQualifier, 0, "high spend", "", true}, {kindQualifier, 0, "low spend", "", false}},
		"avg_basket":          {{kindQualifier, 0, "high basket", "", true}, {kindQualifier, 0, "small basket", "", false}},
		"share_web":           {{kindChannel, 0, "web", "", true}, {kindQualifier, 0, "seldom on web", "", false}},
		"share_app":           {{kindChannel, 0, "app", "", true}, {kindQualifier, 0, "seldom in app", "", false}},
		"share_store":         {{kindChannel, 0, "store", "", true}, {kindQualifier, 0, "seldom in store", "", false}},
		"sessions_90d":        {{kindQualifier, 0, "many visits", "", true}, {kindQualifier, 0, "few visits", "", false}},
		"email_open_rate_90d": {{kindQualifier, 0, "opens emails", "", true}, {kindQualifier, 0, "ignores emails", "", false}},
	}
	for f, p := range v {
		p[0].feature, p[1].feature = f, f
		v[f] = p
	}
	return v
}

// microLabelWord says in a word or two that a cluster's feature is high
// (or low); ok is false for a feature without words.
func microLabelWord(feature string, high bool) (labelWord, bool) {
	p, ok := labelVocabulary()[feature]
	if !ok {
		return labelWord{}, false
	}
	if high {
		return p[0], true
	}
	return p[1], true
}

// microLabelWords picks up to n words for a cluster from its deviations
// (largest |Z| first, Feature the column name), skipping those under minZ
// and a second channel.
func microLabelWords(devs []cluster.Deviation, minZ float64, n int) []labelWord {
	var out []labelWord
	channel := false
	for _, d := range devs {
		if len(out) == n {
			break
		}
		if math.Abs(d.Z) < minZ {
			continue
		}
		w, ok := microLabelWord(d.Feature, d.Z > 0)
		if !ok || (w.kind == kindChannel && channel) {
			continue
		}
		channel = channel || w.kind == kindChannel
		out = append(out, w)
	}
	return out
}

// renderLabel writes words as a label: "<adjectives> <channel> buyers,
// <qualifiers>" ("Frequent app buyers, high basket"); without adjective
// or channel, the qualifiers alone ("High basket, many visits"); without
// any word, "Average customers". Then suffix. It keeps the longest prefix
// of words that fits in MaxLabel characters (at least one word).
func renderLabel(words []labelWord, suffix string) string {
	for n := len(words); ; n-- {
		l := renderWords(words[:max(n, 0)]) + suffix
		if n <= 1 || utf8.RuneCountInString(l) <= MaxLabel {
			return l
		}
	}
}

func renderWords(words []labelWord) string {
	if len(words) == 0 {
		return "Average customers"
	}
	var adjs []labelWord
	var channel string
	var quals []string
	for _, w := range words {
		switch w.kind {
		case kindAdjective:
			adjs = append(adjs, w)
		case kindChannel:
			channel = w.text
		default:
			quals = append(quals, w.text)
		}
	}
	var head []string
	for o := 0; o <= 1; o++ { // recency before frequency: "recent frequent", not "frequent recent"
		for _, a := range adjs {
			if a.order == o {
				head = append(head, a.text)
			}
		}
	}
	if channel != "" {
		head = append(head, channel)
	}
	var parts []string
	if len(head) > 0 {
		parts = append(parts, strings.Join(append(head, "buyers"), " "))
	}
	parts = append(parts, quals...)
	return capitalise(strings.Join(parts, ", "))
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// Label words: a first try names up to labelWords features at least
// labelMinZ overall standard deviations from the mean; clusters that
// would share a label try up to moreWords at moreMinZ, then take their
// id's number: "Frequent app buyers (4)".
//
// A cluster that keeps its id keeps its label while the label still
// holds: each of its words at least keepMinZ from the mean on the same
// side, and no feature it leaves out as far as strongZ and twice its
// weakest word. A label thus changes when it stops describing the
// cluster, not when a deviation wavers around labelMinZ from one night
// to the next.
const (
	labelWords = 3
	labelMinZ  = 0.5
	moreWords  = 4
	moreMinZ   = 0.25
	keepMinZ   = 0.25
	strongZ    = 1.0
)

// microLabels labels the segments from their deviations (every feature,
// largest |Z| first), unique among them: see the label constants.
// previous holds the previous computation's labels by segment id: a
// matched segment keeps its own while it holds. Deterministic: it
// depends on the deviations, ids and previous labels only.
func microLabels(segs []MicroSegment, previous map[string]string) {
	labels := make([]string, len(segs))
	kept := make([]bool, len(segs))
	keptBy := map[string]int{}
	for i, s := range segs {
		l, ok := previous[s.Name]
		if !ok || !s.Matched {
			continue
		}
		if words, ok := parseLabel(l); ok && labelHolds(words, s.deviations) {
			labels[i], kept[i] = l, true
			keptBy[l]++
		}
	}
	for i := range segs {
		if kept[i] && keptBy[labels[i]] > 1 { // not from one day's labels: label them afresh
			kept[i] = false
		}
		if !kept[i] {
			labels[i] = renderLabel(microLabelWords(segs[i].deviations, labelMinZ, labelWords), "")
		}
	}
	// dups marks the fresh labels another segment has too; a kept label
	// stays and the fresh one moves.
	dups := func() []bool {
		n := map[string]int{}
		for _, l := range labels {
			n[l]++
		}
		out := make([]bool, len(labels))
		for i, l := range labels {
			out[i] = !kept[i] && n[l] > 1
		}
		return out
	}
	for i, d := range dups() {
		if d {
			labels[i] = renderLabel(microLabelWords(segs[i].deviations, moreMinZ, moreWords), "")
		}
	}
	for i, d := range dups() {
		if d {
			suffix := " (" + strings.TrimPrefix(segs[i].Name, FamilyMicro+"_") + ")"
			labels[i] = renderLabel(microLabelWords(segs[i].deviations, labelMinZ, labelWords), suffix)
		}
	}
	for i := range segs {
		segs[i].Label = labels[i]
	}
}

// labelHolds says a label of these words still describes a cluster of
// these deviations (see the label constants).
func labelHolds(words []labelWord, devs []cluster.Deviation) bool {
	z := make(map[string]float64, len(devs))
	for _, d := range devs {
		z[d.Feature] = d.Z
	}
	weakest := math.Inf(1)
	named := map[string]bool{}
	for _, w := range words {
		v, ok := z[w.feature]
		if !ok || (v > 0) != w.high || math.Abs(v) < keepMinZ {
			return false
		}
		weakest = min(weakest, math.Abs(v))
		named[w.feature] = true
	}
	if len(words) == 0 {
		weakest = 0
	}
	vocab := labelVocabulary()
	for _, d := range devs {
		if _, ok := vocab[d.Feature]; ok && !named[d.Feature] &&
			math.Abs(d.Z) >= strongZ && math.Abs(d.Z) >= 2*weakest {
			return false
		}
	}
	return true
}

// parseLabel reads back the words of a micro label renderLabel wrote,
// without the id suffix; ok is false for a text it could not have
// written (an edited label, another version's words).
func parseLabel(label string) (words []labelWord, ok bool) {
	if i := strings.LastIndex(label, " ("); i > 0 && strings.HasSuffix(label, ")") && microNumber(FamilyMicro+"_"+label[i+2:len(label)-1]) > 0 {
		label = label[:i]
	}
	if label == "Average customers" {
		return nil, true
	}
	byText := map[string]labelWord{}
	for _, p := range labelVocabulary() {
		byText[p[0].text], byText[p[1].text] = p[0], p[1]
	}
	r, n := utf8.DecodeRuneInString(label)
	parts := strings.Split(string(unicode.ToLower(r))+label[n:], ", ")
	if head, isHead := strings.CutSuffix(parts[0], " buyers"); isHead {
		parts = parts[1:]
		channels := 0
		for _, t := range strings.Fields(head) {
			w, ok := byText[t]
			if !ok || w.kind == kindQualifier {
				return nil, false
			}
			if w.kind == kindChannel {
				channels++
			}
			words = append(words, w)
		}
		if len(words) == 0 || channels > 1 {
			return nil, false
		}
	}
	for _, p := range parts {
		w, ok := byText[p]
		if !ok || w.kind != kindQualifier {
			return nil, false
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return nil, false
	}
	return words, true
}

// microNumber is the number n of id micro_n, 0 when id is not one.
func microNumber(id string) int {
	s, ok := strings.CutPrefix(id, FamilyMicro+"_")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0
	}
	return n
}
