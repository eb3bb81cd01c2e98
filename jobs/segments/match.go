package segments

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Centroid is one micro-segment's centre on a computed day, in the
// standardised feature space of that day.
type Centroid struct {
	Segment  string
	Centroid []float64
	// Label is the segment's label that day: kept while it holds.
	Label string
}

// MicroHistory is what keeps micro-segment ids stable from day to day.
type MicroHistory struct {
	// Features are the coordinates of Previous, in order; the previous
	// centres are only matched when they equal this computation's
	// features (micro features changed: every cluster is new).
	Features []string
	// Previous are the centres of the previous computation.
	Previous []Centroid
	// LastID is the highest micro id number used on any other day: fresh
	// ids start above it, so a retired id is never reused.
	LastID int
	// PreviousOn is the day of Previous (zero without one).
	PreviousOn time.Time
}

// KeptK is the number of clusters a computation of date keeps from the
// previous one, 0 when the silhouette chooses it afresh: on the first
// computation, when the features changed, when the previous computation
// is every days old or more, and on days whose number since 1970-01-01 is
// a multiple of every (config.Segments.ChooseKEveryDays).
func (h MicroHistory) KeptK(features []string, date time.Time, every int) int {
	if every <= 1 || len(h.Previous) == 0 || h.PreviousOn.IsZero() || !slices.Equal(h.Features, features) {
		return 0
	}
	day, prev := dayNumber(date), dayNumber(h.PreviousOn)
	if day <= prev || day-prev >= int64(every) || day%int64(every) == 0 {
		return 0
	}
	return len(h.Previous)
}

// dayNumber is the number of t's calendar day (in t's own location) since
// 1970-01-01.
func dayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// Match names the segments from the previous computation's centres: an
// optimal one-to-one assignment (Hungarian algorithm, least total
// Euclidean distance) of tonight's centres to the previous ones gives
// each matched cluster its previous id; a pair farther apart than
// maxDist (0: no limit) is never matched, whatever that costs the others.
// Unmatched clusters get fresh ids LastID+1, LastID+2, ... by decreasing
// size (then centre), previous ids left unmatched retire. A matched
// cluster then keeps its previous label while the label still describes
// it; the others are labelled afresh, unique within the day (see the
// label constants). It does not depend on the order of m.Segments: only
// on their centres, sizes, deviations and the history.
func (m *MicroSegmentation) Match(h MicroHistory, features []string, maxDist float64) error {
	k := len(m.Segments)
	for i, s := range m.Segments {
		if len(s.Centroid) != len(features) {
			return fmt.Errorf("match micro segments: centre %d has %d coordinates, %d features", i, len(s.Centroid), len(features))
		}
	}
	// Canonical order, whatever k-means' numbering.
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return segmentLess(m.Segments[order[a]], m.Segments[order[b]]) })

	var prev []Centroid
	if slices.Equal(h.Features, features) {
		for _, c := range h.Previous {
			if microNumber(c.Segment) > 0 && len(c.Centroid) == len(features) {
				prev = append(prev, c)
			}
		}
	}
	sort.Slice(prev, func(a, b int) bool { return microNumber(prev[a].Segment) < microNumber(prev[b].Segment) })
	last := h.LastID
	for _, c := range prev {
		last = max(last, microNumber(c.Segment))
	}

	names := make([]string, k)
	shifts := make([]float64, k)
	matched := make([]bool, k)
	if len(prev) > 0 && k > 0 {
		cost := make([][]float64, k)
		for r, i := range order {
			cost[r] = make([]float64, len(prev))
			for j, c := range prev {
				cost[r][j] = math.Sqrt(sqDist(m.Segments[i].Centroid, c.Centroid))
			}
		}
		for r, j := range matchCentroids(cost, maxDist) {
			if j >= 0 {
				i := order[r]
				names[i], shifts[i], matched[i] = prev[j].Segment, cost[r][j], true
			}
		}
	}
	for _, i := range order {
		if !matched[i] {
			last++
			names[i] = MicroName(last - 1)
		}
	}
	for i := range m.Segments {
		m.Segments[i].Name, m.Segments[i].Shift, m.Segments[i].Matched = names[i], shifts[i], matched[i]
	}
	labels := map[string]string{}
	for _, c := range prev {
		if c.Label != "" {
			labels[c.Segment] = c.Label
		}
	}
	microLabels(m.Segments, labels)
	return nil
}

// segmentLess orders segments by decreasing size, then centre.
func segmentLess(a, b MicroSegment) bool {
	if a.Size != b.Size {
		return a.Size > b.Size
	}
	return slices.Compare(a.Centroid, b.Centroid) < 0
}

// matchCentroids assigns rows to columns one to one at least total cost
// (rows or columns beyond the other's count stay unassigned), where a pair
// costing more than maxDist (when > 0) is not allowed: the assignment has
// as many allowed pairs as possible, and those are the pairs returned.
// It returns each row's column, -1 when unassigned.
func matchCentroids(cost [][]float64, maxDist float64) []int {
	n := len(cost)
	if n == 0 {
		return nil
	}
	// A forbidden pair costs more than every allowed pair together: no
	// saving on allowed pairs makes up for one more forbidden pair.
	big := 1.0
	for _, row := range cost {
		for _, c := range row {
			if maxDist <= 0 || c <= maxDist {
				big += c
			}
		}
	}
	c := make([][]float64, n)
	for i, row := range cost {
		c[i] = make([]float64, len(row))
		for j, v := range row {
			if maxDist > 0 && v > maxDist {
				v = big
			}
			c[i][j] = v
		}
	}
	out := hungarian(c)
	for i, j := range out {
		if j >= 0 && maxDist > 0 && cost[i][j] > maxDist {
			out[i] = -1
		}
	}
	return out
}

// hungarian solves the rectangular assignment problem: each row gets a
// distinct column (or -1 when there are more rows than columns) so that
// the total cost is least. O(n² m) for n <= m (the shortest augmenting
// path form of the Hungarian algorithm, with potentials); deterministic.
func hungarian(cost [][]float64) []int {
	n := len(cost)
	if n == 0 {
		return nil
	}
	m := len(cost[0])
	if n > m {
		t := make([][]float64, m)
		for j := range t {
			t[j] = make([]float64, n)
			for i := range n {
				t[j][i] = cost[i][j]
			}
		}
		cols := hungarian(t)
		out := make([]int, n)
		for i := range out {
			out[i] = -1
		}
		for j, i := range cols {
			out[i] = j
		}
		return out
	}
	// 1-based: row 0 and column 0 are the algorithm's sentinels.
	u := make([]float64, n+1)
	v := make([]float64, m+1)
	p := make([]int, m+1) // p[j]: the row assigned to column j
	way := make([]int, m+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		minv := make([]float64, m+1)
		for j := range minv {
			minv[j] = math.Inf(1)
		}
		used := make([]bool, m+1)
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= m; j++ {
				if used[j] {
					continue
				}
				if cur := cost[i0-1][j-1] - u[i0] - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= m; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	out := make([]int, n)
	for j := 1; j <= m; j++ {
		if p[j] != 0 {
			out[p[j]-1] = j - 1
		}
	}
	return out
}
