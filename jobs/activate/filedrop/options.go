package filedrop

import (
	"slices"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// Type is this connector's destination type in parcours.yaml.
const Type = "filedrop"

// Formats are the file formats a filedrop writes.
func Formats() []string { return []string{"csv", "jsonl", "parquet"} }

// Options are a filedrop destination's own keys in parcours.yaml, written
// beside the keys every destination has.
type Options struct {
	// Outbox is the folder files are dropped into (created if missing).
	Outbox string `yaml:"outbox"`
	// Format is the file format: csv, jsonl or parquet.
	Format string `yaml:"format"`
	// FileMode is the octal permission of the files and their manifests,
	// e.g. "0640" (the default); never world-writable, always
	// owner-readable.
	FileMode string `yaml:"file_mode"`
}

// Check lists the problems of the options, each naming its key.
func (o *Options) Check() []string {
	var errs []string
	if o.Outbox == "" {
		errs = append(errs, "outbox: required for "+Type)
	}
	if !slices.Contains(Formats(), o.Format) {
		errs = append(errs, "format: want csv | jsonl | parquet")
	}
	if _, err := ParseFileMode(o.FileMode); err != nil {
		errs = append(errs, "file_mode: "+err.Error())
	}
	return errs
}

// Connect builds the connector (a filedrop has no secret and no network).
func (o *Options) Connect(s delivery.Settings, _ func(string) string) (delivery.Connector, error) {
	mode, err := ParseFileMode(o.FileMode)
	if err != nil {
		return nil, err
	}
	return New(Config{Name: s.Delivery.Destination, Outbox: o.Outbox, Format: o.Format, FileMode: mode, Logger: s.Delivery.Logger})
}
