package segments

import "fmt"

// The RFM segments, named as in the widely published RFM segment map.
const (
	RFMChampions          = "champions"
	RFMLoyal              = "loyal"
	RFMPotentialLoyalists = "potential_loyalists"
	RFMNew                = "new"
	RFMPromising          = "promising"
	RFMNeedAttention      = "need_attention"
	RFMAboutToSleep       = "about_to_sleep"
	RFMAtRisk             = "at_risk"
	RFMCantLoseThem       = "cant_lose_them"
	RFMHibernating        = "hibernating"
	RFMLost               = "lost"
)

// rfmGrid is the one RFM rule table: the segment of each cell, row R-1,
// column FM-1. It is the common R x F map (champions 5/4-5; loyal 3-4/4-5;
// potential loyalists 4-5/2-3; new 5/1; promising 4/1; need attention 3/3;
// about to sleep 3/1-2; at risk 1-2/3-4; can't lose them 1-2/5;
// hibernating 1-2/1-2) read with FM for F, as the 11-segment R/FM table
// does, whose "lost" takes the least recent quintile (R 1) of the
// hibernating cells.
func rfmGrid() [5][5]string {
	return [5][5]string{
		// FM 1 ... FM 5
		{RFMLost, RFMLost, RFMAtRisk, RFMAtRisk, RFMCantLoseThem},                          // R 1
		{RFMHibernating, RFMHibernating, RFMAtRisk, RFMAtRisk, RFMCantLoseThem},            // R 2
		{RFMAboutToSleep, RFMAboutToSleep, RFMNeedAttention, RFMLoyal, RFMLoyal},           // R 3
		{RFMPromising, RFMPotentialLoyalists, RFMPotentialLoyalists, RFMLoyal, RFMLoyal},   // R 4
		{RFMNew, RFMPotentialLoyalists, RFMPotentialLoyalists, RFMChampions, RFMChampions}, // R 5
	}
}

// RFMSegments lists the RFM segments from best to worst.
func RFMSegments() []string {
	return []string{RFMChampions, RFMLoyal, RFMPotentialLoyalists, RFMNew, RFMPromising, RFMNeedAttention,
		RFMAboutToSleep, RFMAtRisk, RFMCantLoseThem, RFMHibernating, RFMLost}
}

// FM combines the frequency and monetary scores: their mean, a half
// rounded up (F 1, M 2 gives 2), so one strong score is not averaged away.
func FM(f, m int) int { return (f + m + 1) / 2 }

// RFMSegment names the segment of recency score r and frequency and
// monetary scores f and m, each 1..5 with 5 the best.
func RFMSegment(r, f, m int) (string, error) {
	for _, s := range []int{r, f, m} {
		if s < 1 || s > 5 {
			return "", fmt.Errorf("rfm scores %d%d%d: each must be 1..5", r, f, m)
		}
	}
	return rfmGrid()[r-1][FM(f, m)-1], nil
}

// rfmMap lists every (R, FM) cell with its segment, for the SQL to join.
func rfmMap() [][]any {
	g := rfmGrid()
	rows := make([][]any, 0, 25)
	for r := 1; r <= 5; r++ {
		for fm := 1; fm <= 5; fm++ {
			rows = append(rows, []any{r, fm, g[r-1][fm-1]})
		}
	}
	return rows
}
