package churn

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Encoding kinds of a feature column.
const (
	// EncodeNumeric passes a numeric column through (blank = NaN).
	EncodeNumeric = "numeric"
	// EncodeOneHot turns a text column into one 0/1 feature per training
	// value, named "column=value". A blank cell is missing (NaN in every
	// indicator); a value not seen in training is 0 in every indicator.
	EncodeOneHot = "onehot"
	// EncodeFrequency turns a text column with more than MaxOneHot distinct
	// values into one feature, "column_frequency": the share of training
	// rows holding the cell's value. A blank cell is missing (NaN); a value
	// not seen in training has frequency 0, which is what it had there.
	EncodeFrequency = "frequency"
)

// Encoding turns a user's table into model features. It is learnt from the
// training table by PrepareTable and saved with the model, so scoring a new
// file (Transform) yields the same features in the same order.
type Encoding struct {
	// MaxOneHot is the one-hot cardinality limit that was applied.
	MaxOneHot int `json:"max_onehot"`
	// Columns lists the feature columns in feature order.
	Columns []ColumnEncoding `json:"columns"`
}

// ColumnEncoding is how one input column becomes features.
type ColumnEncoding struct {
	Name string `json:"name"`
	// Kind is EncodeNumeric, EncodeOneHot or EncodeFrequency.
	Kind string `json:"kind"`
	// Levels are the one-hot values, sorted.
	Levels []string `json:"levels,omitempty"`
	// Frequencies maps each training value to its share of training rows.
	Frequencies map[string]float64 `json:"frequencies,omitempty"`
}

// features returns the feature names made from the column.
func (c ColumnEncoding) features() []string {
	switch c.Kind {
	case EncodeOneHot:
		out := make([]string, len(c.Levels))
		for i, l := range c.Levels {
			out[i] = c.Name + "=" + l
		}
		return out
	case EncodeFrequency:
		return []string{c.Name + "_frequency"}
	}
	return []string{c.Name}
}

// Features returns every feature name, in matrix column order.
func (e *Encoding) Features() []string {
	var out []string
	for _, c := range e.Columns {
		out = append(out, c.features()...)
	}
	return out
}

// fitEncoding learns the encoding of the feature columns.
func fitEncoding(cols []Column, maxOneHot int) *Encoding {
	enc := &Encoding{MaxOneHot: maxOneHot}
	for _, c := range cols {
		if c.Text == nil {
			enc.Columns = append(enc.Columns, ColumnEncoding{Name: c.Name, Kind: EncodeNumeric})
			continue
		}
		counts := make(map[string]int)
		for _, s := range c.Text {
			if s = strings.TrimSpace(s); s != "" {
				counts[s]++
			}
		}
		if len(counts) <= maxOneHot {
			levels := make([]string, 0, len(counts))
			for l := range counts {
				levels = append(levels, l)
			}
			slices.Sort(levels)
			enc.Columns = append(enc.Columns, ColumnEncoding{Name: c.Name, Kind: EncodeOneHot, Levels: levels})
			continue
		}
		freq := make(map[string]float64, len(counts))
		for l, n := range counts {
			freq[l] = float64(n) / float64(len(c.Text))
		}
		enc.Columns = append(enc.Columns, ColumnEncoding{Name: c.Name, Kind: EncodeFrequency, Frequencies: freq})
	}
	return enc
}

// Transform encodes a new table (for scoring) exactly as the training table
// was: it reads the id column and the feature columns the encoding needs
// (other columns, such as a label, are ignored). A numeric column that
// arrives as text is parsed, and a text column that arrives as numbers is
// printed, so a file read with different type guesses still scores.
func (e *Encoding) Transform(cols []Column, idColumn string) (*Dataset, *TableReport, error) {
	rows, err := checkColumns(cols)
	if err != nil {
		return nil, nil, fmt.Errorf("transform table: %w", err)
	}
	idCol, ok := findColumn(cols, idColumn)
	if !ok {
		return nil, nil, fmt.Errorf("transform table: id column %q not found among %s", idColumn, columnNames(cols))
	}
	ids, err := customerIDs(idCol)
	if err != nil {
		return nil, nil, fmt.Errorf("transform table: %w", err)
	}
	x, reports, err := e.apply(cols, rows)
	if err != nil {
		return nil, nil, fmt.Errorf("transform table: %w", err)
	}
	ds := &Dataset{X: x, IDs: ids, Encoding: e}
	return ds, &TableReport{Rows: rows, ID: idColumn, Features: x.Cols(), Columns: reports}, nil
}

// apply builds the feature matrix from the named columns.
func (e *Encoding) apply(cols []Column, rows int) (*Matrix, []ColumnReport, error) {
	names := e.Features()
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("the encoding produces no features")
	}
	x := NewMatrix(names, rows)
	if err := x.checkNames(); err != nil {
		return nil, nil, err
	}
	reports := make([]ColumnReport, 0, len(e.Columns))
	at := 0 // first matrix column of the current input column
	for _, ce := range e.Columns {
		c, ok := findColumn(cols, ce.Name)
		if !ok {
			return nil, nil, fmt.Errorf("feature column %q not found among %s", ce.Name, columnNames(cols))
		}
		rep := ColumnReport{Name: ce.Name, Type: "numeric", Encoding: ce.Kind, Features: ce.features()}
		if c.Text != nil {
			rep.Type = "text"
		}
		var err error
		switch ce.Kind {
		case EncodeNumeric:
			err = encodeNumeric(x, at, c, &rep)
		case EncodeOneHot:
			encodeOneHot(x, at, ce, textCells(c), &rep)
		case EncodeFrequency:
			encodeFrequency(x, at, ce, textCells(c), &rep)
		default:
			err = fmt.Errorf("column %q: unknown encoding %q", ce.Name, ce.Kind)
		}
		if err != nil {
			return nil, nil, err
		}
		reports = append(reports, rep)
		at += len(rep.Features)
	}
	return x, reports, nil
}

// checkNames rejects duplicate feature names, e.g. a one-hot "plan=basic"
// clashing with a column of that name.
func (m *Matrix) checkNames() error {
	seen := make(map[string]bool, len(m.Names))
	for _, n := range m.Names {
		if seen[n] {
			return fmt.Errorf("two features are named %q; rename a column", n)
		}
		seen[n] = true
	}
	return nil
}

// textCells returns the column's cells as trimmed text ("" = blank).
func textCells(c Column) []string {
	out := make([]string, c.len())
	for i := range out {
		if c.Text != nil {
			out[i] = strings.TrimSpace(c.Text[i])
		} else if v := c.Float[i]; !math.IsNaN(v) {
			out[i] = formatNumber(v)
		}
	}
	return out
}

func encodeNumeric(x *Matrix, at int, c Column, rep *ColumnReport) error {
	for i := range x.Rows {
		var v float64
		if c.Text != nil {
			s := strings.TrimSpace(c.Text[i])
			if s == "" {
				v = math.NaN()
			} else {
				var err error
				if v, err = strconv.ParseFloat(s, 64); err != nil {
					return &InputError{Column: c.Name, Row: i + 1, Value: c.Text[i],
						Problem: "is not a number, and the model uses this column as numeric"}
				}
			}
		} else {
			v = c.Float[i]
		}
		if math.IsInf(v, 0) {
			return &InputError{Column: c.Name, Row: i + 1, Value: formatNumber(v), Problem: "is infinite; leave the cell blank if the value is unknown"}
		}
		if math.IsNaN(v) {
			rep.Missing++
		}
		x.Set(i, at, v)
	}
	return nil
}

func encodeOneHot(x *Matrix, at int, ce ColumnEncoding, cells []string, rep *ColumnReport) {
	pos := make(map[string]int, len(ce.Levels))
	for k, l := range ce.Levels {
		pos[l] = k
	}
	seen := make(map[string]bool)
	for i, s := range cells {
		if s == "" {
			rep.Missing++
			for k := range ce.Levels {
				x.Set(i, at+k, math.NaN())
			}
			continue
		}
		seen[s] = true
		k, ok := pos[s]
		if !ok {
			rep.Unseen++ // all indicators stay 0
			continue
		}
		x.Set(i, at+k, 1)
	}
	rep.Levels = len(seen)
}

func encodeFrequency(x *Matrix, at int, ce ColumnEncoding, cells []string, rep *ColumnReport) {
	seen := make(map[string]bool)
	for i, s := range cells {
		if s == "" {
			rep.Missing++
			x.Set(i, at, math.NaN())
			continue
		}
		seen[s] = true
		f, ok := ce.Frequencies[s]
		if !ok {
			rep.Unseen++
		}
		x.Set(i, at, f)
	}
	rep.Levels = len(seen)
}
