package ingest

import "fmt"

// Format is how a source's extract is written.
type Format string

// Formats of extracts.
const (
	CSV     Format = "csv"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// Kind says how a source's rows combine across deliveries.
type Kind string

// Kinds of sources.
const (
	// Event rows are facts with an id: a row is loaded once, whatever the
	// number of re-deliveries (the first delivery wins).
	Event Kind = "event"
	// Upsert rows are keyed state: a later delivery of a key replaces it.
	Upsert Kind = "upsert"
	// Snapshot files are full copies of reference data: the newest file
	// replaces the table.
	Snapshot Kind = "snapshot"
)

// Type is a column's declared type in a contract.
type Type string

// Column types.
const (
	Text      Type = "text"
	Int       Type = "integer"
	Decimal   Type = "decimal"
	Bool      Type = "boolean"   // true/false, 1/0, yes/no, y/n (any case)
	Timestamp Type = "timestamp" // ISO 8601; with Z or an offset, else read in the business time zone
	LocalTime Type = "local timestamp"
	Date      Type = "date" // YYYY-MM-DD
	Enum      Type = "enum"
)

// Column is one field of a contract.
type Column struct {
	Name     string
	Type     Type
	Required bool
	// Values are the accepted values of an enum (compared lower-cased).
	Values []string
	// Min and Max bound numbers (inclusive) when set.
	Min, Max *float64
	// Pattern is a regular expression the whole trimmed value must match.
	Pattern string
	// Layout is the strptime layout of a LocalTime column.
	Layout string
	// EventTime marks when the row happened: it must fall in the plausible
	// window (ingest.plausible_from to the run date plus
	// ingest.plausible_days_ahead), or the row is quarantined.
	EventTime bool
	// Email marks an email address: one that is not one (no @, spaces, no
	// domain) is quarantined when the column is required, else dropped
	// from the row and counted in ops.ingest_files.nulled.
	Email bool
	Doc   string
}

// Check is a rule across columns, written as a SQL condition over the
// typed columns that must hold.
type Check struct {
	Field  string
	SQL    string
	Reason string
}

// Contract declares one source: where it comes from, what a valid row is,
// and where it lands.
type Contract struct {
	Source string
	File   string
	Format Format
	Kind   Kind
	// Key identifies a row across deliveries (event id, natural key).
	Key     []string
	Columns []Column
	Checks  []Check
	Doc     string
}

// Table is the landing table the source loads into.
func (c Contract) Table() string { return "landing." + c.Source }

// SQLFile is the SQL file holding the landing table's DDL and transform.
func (c Contract) SQLFile() string { return "landing." + c.Source + ".sql" }

// Column returns a column by name.
func (c Contract) Column(name string) (Column, bool) {
	for _, col := range c.Columns {
		if col.Name == name {
			return col, true
		}
	}
	return Column{}, false
}

func (c Contract) validate() error {
	seen := map[string]bool{}
	for _, col := range c.Columns {
		if seen[col.Name] {
			return fmt.Errorf("contract %s: column %s declared twice", c.Source, col.Name)
		}
		seen[col.Name] = true
		if col.Type == Enum && len(col.Values) == 0 {
			return fmt.Errorf("contract %s: enum column %s has no values", c.Source, col.Name)
		}
		if col.Type == LocalTime && col.Layout == "" {
			return fmt.Errorf("contract %s: local timestamp column %s has no layout", c.Source, col.Name)
		}
	}
	for _, k := range c.Key {
		col, ok := c.Column(k)
		if !ok || !col.Required {
			return fmt.Errorf("contract %s: key column %s must be a required column", c.Source, k)
		}
	}
	return nil
}

func num(v float64) *float64 { return &v }
