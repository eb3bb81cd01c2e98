package churn

import "fmt"

// InputError describes a bad cell or column of a user's table, precisely
// enough to find it in the file.
type InputError struct {
	// Column is the column name.
	Column string
	// Row is the 1-based data row (the header is not counted); 0 when the
	// problem is the whole column.
	Row int
	// Value is the offending cell as text.
	Value string
	// Problem says what is wrong.
	Problem string
}

// Error reports the column, the data row and the matching line of a file
// with one header line, e.g. `column "churned", data row 17 (line 18 with
// the header): "maybe" is not a binary label ...`.
func (e *InputError) Error() string {
	if e.Row == 0 {
		return fmt.Sprintf("column %q: %s", e.Column, e.Problem)
	}
	return fmt.Sprintf("column %q, data row %d (line %d with the header): %q %s",
		e.Column, e.Row, e.Row+1, e.Value, e.Problem)
}
