package filedrop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/parcours/parcours/internal/csvsafe"

	"github.com/parcours/parcours/jobs/activate/delivery"
)

// baseColumns are the member fields every file carries, in this order;
// attribute columns follow, sorted by name.
func baseColumns() []string {
	return []string{"key", "email", "phone", "first_name", "last_name", "country_code", "postal_code"}
}

// columns returns the file's header and, per attribute column, the
// attribute it holds. An attribute named like a base column becomes
// "attr_<name>".
func columns(ms []delivery.Member) (header []string, attrs map[string]string) {
	header = baseColumns()
	names := map[string]bool{}
	for _, m := range ms {
		for k := range m.Attributes {
			names[k] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	attrs = map[string]string{}
	for _, k := range sorted {
		col := k
		if slices.Contains(header, col) {
			col = "attr_" + k
		}
		header = append(header, col)
		attrs[col] = k
	}
	return header, attrs
}

// rows lays members out under header.
func rows(ms []delivery.Member, header []string, attrs map[string]string) [][]string {
	out := make([][]string, len(ms))
	for i, m := range ms {
		row := []string{m.Key, m.Email, m.Phone, m.FirstName, m.LastName, m.CountryCode, m.PostalCode}
		for _, col := range header[len(row):] {
			row = append(row, m.Attributes[attrs[col]])
		}
		out[i] = row
	}
	return out
}

// encodeCSV writes the file with formula-like cells neutralised: it is
// opened in spreadsheets, and names and attributes come from customers.
func encodeCSV(header []string, data [][]string) ([]byte, error) {
	var buf bytes.Buffer
	w := csvsafe.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	if err := w.WriteAll(data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeJSONL writes one object per line. Keys follow the header order (a
// map would sort them); empty fields are left out, the key never.
func encodeJSONL(header []string, data [][]string) ([]byte, error) {
	var buf bytes.Buffer
	for _, row := range data {
		buf.WriteByte('{')
		first := true
		for j, v := range row {
			if v == "" && j > 0 {
				continue
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			k, err := json.Marshal(header[j])
			if err != nil {
				return nil, err
			}
			val, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			buf.Write(k)
			buf.WriteByte(':')
			buf.Write(val)
		}
		buf.WriteString("}\n")
	}
	return buf.Bytes(), nil
}

// encodeParquet writes one row group of string columns through pqarrow,
// Snappy-compressed. The writer adds nothing time- or host-dependent, so
// the bytes are the same for the same rows.
func encodeParquet(header []string, data [][]string) ([]byte, error) {
	fields := make([]arrow.Field, len(header))
	for i, h := range header {
		fields[i] = arrow.Field{Name: h, Type: arrow.BinaryTypes.String}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for _, row := range data {
		for j, v := range row {
			b.Field(j).(*array.StringBuilder).Append(v)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithCreatedBy("parcours activate"), parquet.WithDictionaryDefault(true))
	w, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.NewArrowWriterProperties())
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return nil, fmt.Errorf("parquet write: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("parquet close: %w", err)
	}
	return buf.Bytes(), nil
}
