package churn

import (
	"math"
	"strconv"
	"strings"
)

// labelProblem is the message for a value that is not a binary label.
const labelProblem = "is not a binary label; accepted: 0/1, true/false, yes/no (any case)"

// parseLabel reads one text label: 0/1 (also "0.0", "1.0"), true/false or
// yes/no, any case, surrounding spaces ignored.
func parseLabel(s string) (float64, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return 1, true
	case "0", "false", "no":
		return 0, true
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && (v == 0 || v == 1) {
		return v, true
	}
	return 0, false
}

// labels converts the label column to 0/1, failing on the first blank or
// non-binary cell.
func labels(c Column) ([]float64, error) {
	y := make([]float64, c.len())
	if c.Text != nil {
		for i, s := range c.Text {
			if strings.TrimSpace(s) == "" {
				return nil, &InputError{Column: c.Name, Row: i + 1, Value: s, Problem: "is blank; every row needs a label"}
			}
			v, ok := parseLabel(s)
			if !ok {
				return nil, &InputError{Column: c.Name, Row: i + 1, Value: s, Problem: labelProblem}
			}
			y[i] = v
		}
		return y, nil
	}
	for i, v := range c.Float {
		switch {
		case math.IsNaN(v):
			return nil, &InputError{Column: c.Name, Row: i + 1, Value: "", Problem: "is blank; every row needs a label"}
		case v == 0 || v == 1:
			y[i] = v
		default:
			return nil, &InputError{Column: c.Name, Row: i + 1, Value: formatNumber(v), Problem: labelProblem}
		}
	}
	return y, nil
}

// formatNumber prints a cell value the way it most likely looked in the file.
func formatNumber(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
