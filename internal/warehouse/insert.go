package warehouse

import (
	"context"
	"fmt"
	"strings"

	sqlfs "github.com/parcours/parcours/sql"
)

// insertBatch is how many rows InsertRows puts in one statement: one
// statement per row costs milliseconds each in DuckDB, seconds over thousands.
const insertBatch = 200

// InsertRows runs head (an "INSERT INTO t (cols) VALUES" prefix) with rows
// appended as placeholder tuples, many rows per statement. Each row must
// hold one value per column; tail (e.g. "ON CONFLICT DO NOTHING") follows
// the values. Rows are inserted in order.
func InsertRows(ctx context.Context, db Execer, head, tail string, rows [][]any) error {
	for start := 0; start < len(rows); start += insertBatch {
		end := min(start+insertBatch, len(rows))
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, (end-start)*len(rows[start]))
		for i, r := range rows[start:end] {
			if len(r) != len(rows[start]) {
				return fmt.Errorf("insert: row %d has %d values, row %d has %d", start+i, len(r), start, len(rows[start]))
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			b.WriteString(strings.TrimSuffix(strings.Repeat("?, ", len(r)), ", "))
			b.WriteString(")")
			args = append(args, r...)
		}
		b.WriteString(" ")
		b.WriteString(tail)
		if _, err := db.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert rows %d-%d: %w", start+1, end, err)
		}
	}
	return nil
}

// InsertSection writes rows with a section whose {{rows}} stands for their
// value tuples (INSERT INTO t (a, b) VALUES {{rows}};), many rows per
// statement through InsertRows. The last {{rows}} is the placeholder: the
// section's comment may name it.
func (w *Warehouse) InsertSection(ctx context.Context, db Execer, ref sqlfs.Ref, rows [][]any) error {
	q, err := w.SQL.Text(ref)
	if err != nil {
		return err
	}
	i := strings.LastIndex(q, "{{rows}}")
	if i < 0 {
		return fmt.Errorf("%s %s: no {{rows}} placeholder", ref.File, ref.Section)
	}
	if err := InsertRows(ctx, db, q[:i], q[i+len("{{rows}}"):], rows); err != nil {
		return fmt.Errorf("%s %s: %w", ref.File, ref.Section, err)
	}
	return nil
}
