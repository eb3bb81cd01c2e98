package churn

import (
	"fmt"
	"math"
)

// Matrix is a dense row-major float64 matrix with one name per column.
// NaN marks a missing value; infinities are not allowed.
type Matrix struct {
	// Names holds the column (feature) names, unique and non-empty.
	Names []string
	// Rows is the number of rows.
	Rows int
	// Data holds the values row after row: Rows × len(Names).
	Data []float64
}

// NewMatrix returns a zero-filled rows × len(names) matrix.
func NewMatrix(names []string, rows int) *Matrix {
	return &Matrix{Names: names, Rows: rows, Data: make([]float64, rows*len(names))}
}

// MatrixFromRows wraps row-major data (not copied) after checking its shape.
func MatrixFromRows(names []string, data []float64) (*Matrix, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("matrix: no columns")
	}
	if len(data)%len(names) != 0 {
		return nil, fmt.Errorf("matrix: %d values do not fill rows of %d columns", len(data), len(names))
	}
	m := &Matrix{Names: names, Rows: len(data) / len(names), Data: data}
	return m, m.Validate()
}

// MatrixFromColumns copies equal-length columns (as they arrive from a
// columnar store) into a row-major matrix.
func MatrixFromColumns(names []string, cols [][]float64) (*Matrix, error) {
	if len(names) != len(cols) || len(names) == 0 {
		return nil, fmt.Errorf("matrix: %d names for %d columns", len(names), len(cols))
	}
	rows := len(cols[0])
	m := NewMatrix(names, rows)
	for j, c := range cols {
		if len(c) != rows {
			return nil, fmt.Errorf("matrix: column %q has %d rows, column %q has %d", names[j], len(c), names[0], rows)
		}
		for i, v := range c {
			m.Data[i*len(names)+j] = v
		}
	}
	return m, m.Validate()
}

// Cols returns the number of columns.
func (m *Matrix) Cols() int { return len(m.Names) }

// At returns the value at row i, column j.
func (m *Matrix) At(i, j int) float64 { return m.Data[i*len(m.Names)+j] }

// Set stores v at row i, column j.
func (m *Matrix) Set(i, j int, v float64) { m.Data[i*len(m.Names)+j] = v }

// Row returns row i as a slice sharing the matrix's storage.
func (m *Matrix) Row(i int) []float64 {
	c := len(m.Names)
	return m.Data[i*c : (i+1)*c : (i+1)*c]
}

// Column returns a copy of column j.
func (m *Matrix) Column(j int) []float64 {
	out := make([]float64, m.Rows)
	for i := range out {
		out[i] = m.At(i, j)
	}
	return out
}

// Index returns the position of the named column, or -1.
func (m *Matrix) Index(name string) int {
	for j, n := range m.Names {
		if n == name {
			return j
		}
	}
	return -1
}

// Validate checks the shape, the names and that no value is infinite.
func (m *Matrix) Validate() error {
	if len(m.Names) == 0 {
		return fmt.Errorf("matrix: no columns")
	}
	if m.Rows < 0 || len(m.Data) != m.Rows*len(m.Names) {
		return fmt.Errorf("matrix: %d values for %d rows × %d columns", len(m.Data), m.Rows, len(m.Names))
	}
	seen := make(map[string]bool, len(m.Names))
	for _, n := range m.Names {
		if n == "" {
			return fmt.Errorf("matrix: empty column name")
		}
		if seen[n] {
			return fmt.Errorf("matrix: duplicate column name %q", n)
		}
		seen[n] = true
	}
	for k, v := range m.Data {
		if math.IsInf(v, 0) {
			c := len(m.Names)
			return fmt.Errorf("matrix: column %q row %d is %v; use NaN for missing", m.Names[k%c], k/c, v)
		}
	}
	return nil
}

// selectRows returns a new matrix holding the given rows in that order.
func (m *Matrix) selectRows(rows []int) *Matrix {
	c := len(m.Names)
	out := NewMatrix(m.Names, len(rows))
	for k, i := range rows {
		copy(out.Data[k*c:(k+1)*c], m.Data[i*c:(i+1)*c])
	}
	return out
}

// aligned returns a matrix whose columns are exactly names, in that order:
// m itself when it already is, else a copy. Extra columns are ignored; a
// missing one is an error naming it.
func (m *Matrix) aligned(names []string) (*Matrix, error) {
	if len(m.Data) != m.Rows*len(m.Names) {
		return nil, fmt.Errorf("matrix: %d values for %d rows × %d columns", len(m.Data), m.Rows, len(m.Names))
	}
	same := len(names) == len(m.Names)
	for j := 0; same && j < len(names); j++ {
		same = names[j] == m.Names[j]
	}
	if same {
		return m, nil
	}
	pos := make(map[string]int, len(m.Names))
	for j, n := range m.Names {
		pos[n] = j
	}
	src := make([]int, len(names))
	for k, n := range names {
		j, ok := pos[n]
		if !ok {
			return nil, fmt.Errorf("matrix: model feature %q is not among the %d columns given", n, len(m.Names))
		}
		src[k] = j
	}
	out := NewMatrix(names, m.Rows)
	for i := range m.Rows {
		row, dst := m.Row(i), out.Row(i)
		for k, j := range src {
			dst[k] = row[j]
		}
	}
	return out, nil
}
