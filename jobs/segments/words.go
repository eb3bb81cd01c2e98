package segments

import (
	"fmt"
	"strconv"
)

// The segment families, as written in analytics.segment_members.family.
const (
	FamilyRFM        = "rfm"
	FamilyValueRisk  = "value_risk"
	FamilyPropensity = "propensity"
	FamilyMicro      = "micro"
)

// Families lists the families in the order the job computes them.
func Families() []string {
	return []string{FamilyRFM, FamilyValueRisk, FamilyPropensity, FamilyMicro}
}

// The value_risk and propensity segments.
const (
	HighValueLowRisk  = "high_value_low_risk"
	HighValueHighRisk = "high_value_high_risk"
	LowValueLowRisk   = "low_value_low_risk"
	LowValueHighRisk  = "low_value_high_risk"
	LikelyToBuy30d    = "likely_to_buy_30d"
	UnlikelyToBuy30d  = "unlikely_to_buy_30d"
)

// rfmWords says what each RFM segment's cell means.
func rfmWords() map[string]string {
	return map[string]string{
		RFMChampions:          "bought very recently, buy often and spend the most",
		RFMLoyal:              "buy often and spend well, and bought not long ago",
		RFMPotentialLoyalists: "bought recently, with average frequency and spend: can become loyal",
		RFMNew:                "bought very recently, but little and rarely so far",
		RFMPromising:          "bought recently, but little and rarely so far",
		RFMNeedAttention:      "average recency, frequency and spend",
		RFMAboutToSleep:       "last purchase a while ago, little and rarely",
		RFMAtRisk:             "bought often and spent well, but not for a long time",
		RFMCantLoseThem:       "were among the most frequent and biggest buyers, and have not come back for a long time",
		RFMHibernating:        "last purchase long ago, little and rarely",
		RFMLost:               "the longest since a purchase, little and rarely",
	}
}

// fixedWords returns the description (naming the thresholds in force) and
// the label of every segment of the rule-based families: family, segment,
// description, label.
func fixedWords(opts Options, riskHigh float64) [][]any {
	rows := fixedDescriptions(opts, riskHigh)
	labels := fixedLabels()
	for i, r := range rows {
		rows[i] = append(r, labels[r[0].(string)][r[1].(string)])
	}
	return rows
}

// fixedDescriptions returns family, segment and description of every
// segment of the rule-based families.
func fixedDescriptions(opts Options, riskHigh float64) [][]any {
	var rows [][]any
	words := rfmWords()
	for _, s := range RFMSegments() {
		rows = append(rows, []any{FamilyRFM, s, words[s]})
	}
	q := quantileWords(opts.ValueQuantile)
	risk := strconv.FormatFloat(riskHigh, 'g', -1, 64)
	value := map[string]string{
		HighValueLowRisk:  "CLV at or above the " + q + ", churn probability under " + risk + ": keep them",
		HighValueHighRisk: "CLV at or above the " + q + ", churn probability " + risk + " or more: worth winning back",
		LowValueLowRisk:   "CLV under the " + q + ", churn probability under " + risk + ": room to grow",
		LowValueHighRisk:  "CLV under the " + q + ", churn probability " + risk + " or more",
	}
	for _, s := range []string{HighValueLowRisk, HighValueHighRisk, LowValueLowRisk, LowValueHighRisk} {
		rows = append(rows, []any{FamilyValueRisk, s, value[s]})
	}
	n := strconv.FormatFloat(opts.MinPurchases30d, 'g', -1, 64)
	rows = append(rows,
		[]any{FamilyPropensity, LikelyToBuy30d, "the CLV model expects " + n + " purchases or more in the next 30 days"},
		[]any{FamilyPropensity, UnlikelyToBuy30d, "the CLV model expects fewer than " + n + " purchases in the next 30 days"})
	return rows
}

// quantileWords names a CLV quantile of the day: "day's median",
// "day's 70% quantile".
func quantileWords(q float64) string {
	if q == 0.5 {
		return "day's median"
	}
	return fmt.Sprintf("day's %s%% quantile", strconv.FormatFloat(100*q, 'g', 4, 64))
}
