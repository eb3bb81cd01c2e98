package churn

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Column is one named column of a user's table, as read from a CSV or
// Parquet file: numeric (Float, NaN for blank cells) or text (Text, blank
// after trimming spaces = missing). Exactly one of Float and Text is set.
type Column struct {
	Name  string
	Float []float64
	Text  []string
}

func (c Column) len() int {
	if c.Text != nil {
		return len(c.Text)
	}
	return len(c.Float)
}

// TableOptions names the label and id columns of a table and bounds the
// one-hot encoding of text columns.
type TableOptions struct {
	// Label is the label column: 0/1, true/false or yes/no (any case).
	Label string
	// ID is the customer id column; ids must be non-blank and unique. Several
	// columns separated by commas ("cutoff,customer_key") form one id, as
	// in a feature file with one row per customer and cut-off.
	ID string
	// MaxOneHot is the largest number of distinct values a text column may
	// have to be one-hot encoded; above it the column is frequency encoded.
	// 0 means DefaultMaxOneHot.
	MaxOneHot int
}

// DefaultMaxOneHot is the default one-hot cardinality limit.
const DefaultMaxOneHot = 20

// TableReport tells what PrepareTable (or Encoding.Transform) made of a
// table; it is meant to be printed or stored as JSON.
type TableReport struct {
	Rows      int    `json:"rows"`
	Positives int    `json:"positives,omitempty"`
	Label     string `json:"label,omitempty"`
	ID        string `json:"id"`
	// Features is the number of model features produced.
	Features int            `json:"features"`
	Columns  []ColumnReport `json:"columns"`
}

// ColumnReport describes one input feature column.
type ColumnReport struct {
	Name string `json:"name"`
	// Type is "numeric" or "text", as the column arrived.
	Type string `json:"type"`
	// Encoding is "numeric", "onehot" or "frequency".
	Encoding string `json:"encoding"`
	// Missing counts blank cells, which become NaN (missing) features.
	Missing int `json:"missing"`
	// Levels counts the distinct non-blank values of a text column.
	Levels int `json:"levels,omitempty"`
	// Unseen counts text cells whose value the encoding never saw in
	// training (only when transforming new data).
	Unseen int `json:"unseen,omitempty"`
	// Features lists the model features made from this column.
	Features []string `json:"features"`
}

// PrepareTable turns a user's table into a labelled dataset: it checks the
// label and id columns, encodes text columns (see Encoding) and keeps blank
// feature cells as missing values, counting them per column. The returned
// dataset carries its Encoding so that a fitted model can score new files.
func PrepareTable(cols []Column, opt TableOptions) (*Dataset, *TableReport, error) {
	if opt.Label == "" || opt.ID == "" {
		return nil, nil, fmt.Errorf("prepare table: label and id column names are required")
	}
	if opt.Label == opt.ID {
		return nil, nil, fmt.Errorf("prepare table: label and id are the same column %q", opt.Label)
	}
	if opt.MaxOneHot == 0 {
		opt.MaxOneHot = DefaultMaxOneHot
	}
	if opt.MaxOneHot < 0 {
		return nil, nil, fmt.Errorf("prepare table: one-hot limit %d < 0", opt.MaxOneHot)
	}
	rows, err := checkColumns(cols)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare table: %w", err)
	}
	labelCol, ok := findColumn(cols, opt.Label)
	if !ok {
		return nil, nil, fmt.Errorf("prepare table: label column %q not found among %s", opt.Label, columnNames(cols))
	}
	idNames := strings.Split(opt.ID, ",")
	var idCol Column
	for i, name := range idNames {
		name = strings.TrimSpace(name)
		idNames[i] = name
		c, ok := findColumn(cols, name)
		if !ok {
			return nil, nil, fmt.Errorf("prepare table: id column %q not found among %s", name, columnNames(cols))
		}
		if name == opt.Label {
			return nil, nil, fmt.Errorf("prepare table: label and id are the same column %q", opt.Label)
		}
		idCol = joinID(idCol, c, i == 0)
	}
	y, err := labels(labelCol)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare table: %w", err)
	}
	ids, err := customerIDs(idCol)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare table: %w", err)
	}
	var features []Column
	for _, c := range cols {
		if c.Name != opt.Label && !slices.Contains(idNames, c.Name) {
			features = append(features, c)
		}
	}
	if len(features) == 0 {
		return nil, nil, fmt.Errorf("prepare table: no feature columns besides %q and %q", opt.Label, opt.ID)
	}
	enc := fitEncoding(features, opt.MaxOneHot)
	x, colReports, err := enc.apply(features, rows)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare table: %w", err)
	}
	ds := &Dataset{X: x, Y: y, IDs: ids, Encoding: enc}
	if err := ds.Validate(); err != nil {
		return nil, nil, fmt.Errorf("prepare table: %w", err)
	}
	rep := &TableReport{
		Rows: rows, Positives: ds.Positives(), Label: opt.Label, ID: opt.ID,
		Features: x.Cols(), Columns: colReports,
	}
	return ds, rep, nil
}

// joinID adds column c to a composite id column (values joined by ":").
func joinID(id, c Column, first bool) Column {
	if first {
		return c
	}
	text := func(col Column, i int) string {
		if col.Text != nil {
			return strings.TrimSpace(col.Text[i])
		}
		if v := col.Float[i]; !math.IsNaN(v) {
			return formatNumber(v)
		}
		return ""
	}
	out := Column{Name: id.Name + "," + c.Name, Text: make([]string, c.len())}
	for i := range out.Text {
		a, b := text(id, i), text(c, i)
		if a != "" && b != "" {
			out.Text[i] = a + ":" + b
		}
	}
	return out
}

// checkColumns checks names and lengths and returns the row count.
func checkColumns(cols []Column) (int, error) {
	if len(cols) == 0 {
		return 0, fmt.Errorf("no columns")
	}
	seen := make(map[string]bool, len(cols))
	rows := cols[0].len()
	for _, c := range cols {
		if strings.TrimSpace(c.Name) == "" {
			return 0, fmt.Errorf("a column has no name")
		}
		if seen[c.Name] {
			return 0, fmt.Errorf("column %q appears twice", c.Name)
		}
		seen[c.Name] = true
		if (c.Float == nil) == (c.Text == nil) {
			return 0, fmt.Errorf("column %q must be either numeric or text", c.Name)
		}
		if c.len() != rows {
			return 0, fmt.Errorf("column %q has %d rows, column %q has %d", c.Name, c.len(), cols[0].Name, rows)
		}
	}
	if rows == 0 {
		return 0, fmt.Errorf("the table has no data rows")
	}
	return rows, nil
}

func findColumn(cols []Column, name string) (Column, bool) {
	for _, c := range cols {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

func columnNames(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = fmt.Sprintf("%q", c.Name)
	}
	return strings.Join(names, ", ")
}

// customerIDs reads the id column as text (numbers printed without
// exponent or trailing zeros) and rejects blanks and duplicates.
func customerIDs(c Column) ([]string, error) {
	ids := make([]string, c.len())
	first := make(map[string]int, len(ids))
	for i := range ids {
		var id string
		if c.Text != nil {
			id = strings.TrimSpace(c.Text[i])
		} else if v := c.Float[i]; !math.IsNaN(v) {
			id = formatNumber(v)
		}
		if id == "" {
			return nil, &InputError{Column: c.Name, Row: i + 1, Value: "", Problem: "is blank; every row needs a customer id"}
		}
		if r, dup := first[id]; dup {
			return nil, &InputError{Column: c.Name, Row: i + 1, Value: id,
				Problem: fmt.Sprintf("repeats the id of data row %d; ids must be unique", r)}
		}
		first[id] = i + 1
		ids[i] = id
	}
	return ids, nil
}

// ColumnsFromText types each column of a table read as text: numeric when
// every non-blank cell parses as a number (blank, NA and null cells
// become NaN), text otherwise.
func ColumnsFromText(header []string, rows [][]string) []Column {
	cols := make([]Column, len(header))
	for j, name := range header {
		nums := make([]float64, len(rows))
		numeric := true
		for i, r := range rows {
			s := strings.TrimSpace(r[j])
			if s == "" || strings.EqualFold(s, "NA") || strings.EqualFold(s, "null") {
				nums[i] = math.NaN()
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				numeric = false
				break
			}
			nums[i] = v
		}
		if numeric {
			cols[j] = Column{Name: name, Float: nums}
			continue
		}
		text := make([]string, len(rows))
		for i, r := range rows {
			text[i] = r[j]
		}
		cols[j] = Column{Name: name, Text: text}
	}
	return cols
}
