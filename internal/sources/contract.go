package sources

// Format is how a source's files are written.
type Format string

// Formats of extracts.
const (
	CSV     Format = "csv"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// Delivery says how a kind's rows combine across deliveries.
type Delivery string

// Deliveries.
const (
	// Event rows are facts with an id: a row is loaded once, whatever the
	// number of re-deliveries (the first delivery wins).
	Event Delivery = "event"
	// Upsert rows are keyed state: a later delivery of a key replaces it.
	Upsert Delivery = "upsert"
	// Snapshot files are full copies of reference data: the newest file
	// replaces the table.
	Snapshot Delivery = "snapshot"
)

// Type is a canonical field's type.
type Type string

// Field types.
const (
	Text      Type = "text"
	Int       Type = "integer"
	Decimal   Type = "decimal"
	Bool      Type = "boolean"   // true/false, 1/0, yes/no, y/n (any case)
	Timestamp Type = "timestamp" // ISO 8601 (with Z or an offset, else read in the business time zone), or the source's timestamp_format
	Date      Type = "date"      // YYYY-MM-DD, or the source's date_format
	Enum      Type = "enum"
)

// Column is one canonical field of a kind.
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
	// EventTime marks when the row happened: it must fall in the plausible
	// window (ingest.plausible_from to the run date plus
	// ingest.plausible_days_ahead), or the row is quarantined.
	EventTime bool
	// Email marks an email address: one that is not one is quarantined
	// when the field is required, else dropped from the row and counted.
	Email bool
	// Layout is the strptime layout of a Timestamp or Date read with the
	// source's timestamp_format or date_format ("" for ISO 8601).
	Layout string
	// Personal marks personal data (a name, a contact detail, free text):
	// `sources check` masks it in its samples.
	Personal bool
	Doc      string
}

// Check is a rule across fields, a SQL condition over the typed fields
// that must hold.
type Check struct {
	Field  string
	SQL    string
	Reason string
}

func num(v float64) *float64 { return &v }
