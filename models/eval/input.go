package eval

import (
	"fmt"
	"math"
)

// Error is an error kind of this package; compare with errors.Is.
// It is a string type so that the kinds can be constants.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

const (
	// ErrOneClass reports labels holding a single class: ROC AUC, PR AUC and
	// lift are undefined then.
	ErrOneClass Error = "labels hold a single class"
	// ErrInput reports mismatched lengths, labels other than 0/1 or
	// probabilities outside [0, 1].
	ErrInput Error = "invalid input"
)

// checkInput validates y and p and counts the positives.
func checkInput(y, p []float64) (positives int, err error) {
	if len(y) != len(p) {
		return 0, fmt.Errorf("%w: %d labels but %d predictions", ErrInput, len(y), len(p))
	}
	if len(y) == 0 {
		return 0, fmt.Errorf("%w: no rows", ErrInput)
	}
	for i := range y {
		switch y[i] {
		case 0:
		case 1:
			positives++
		default:
			return 0, fmt.Errorf("%w: label %v at row %d is not 0 or 1", ErrInput, y[i], i)
		}
		if math.IsNaN(p[i]) || p[i] < 0 || p[i] > 1 {
			return 0, fmt.Errorf("%w: prediction %v at row %d is not a probability", ErrInput, p[i], i)
		}
	}
	return positives, nil
}

// checkBothClasses is checkInput for the rank metrics, which need both classes.
func checkBothClasses(y, p []float64) (positives int, err error) {
	positives, err = checkInput(y, p)
	if err != nil {
		return 0, err
	}
	if positives == 0 || positives == len(y) {
		return 0, fmt.Errorf("%w: %d positives among %d rows", ErrOneClass, positives, len(y))
	}
	return positives, nil
}

// group is a run of rows sharing one predicted value.
type group struct {
	score     float64
	rows      int
	positives int
}

// groupsDescending orders the rows by decreasing prediction and merges
// ties into groups, the unit every tie-aware metric here works on.
func groupsDescending(y, p []float64) []group {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sortIndexDescending(idx, p)
	var gs []group
	for _, i := range idx {
		if n := len(gs); n > 0 && gs[n-1].score == p[i] {
			gs[n-1].rows++
			gs[n-1].positives += int(y[i])
			continue
		}
		gs = append(gs, group{score: p[i], rows: 1, positives: int(y[i])})
	}
	return gs
}
