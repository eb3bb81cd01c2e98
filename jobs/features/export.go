package features

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// ExportOptions say which point-in-time features to export, and where.
type ExportOptions struct {
	// Cutoffs are the cut-off days; each customer gets one row per day.
	Cutoffs []time.Time
	// Horizon is the churn horizon, in days, of the label.
	Horizon int
	// Out is the file written: Parquet when it ends in .parquet, else CSV
	// with a header row.
	Out string
	// IncompleteLabels writes churned as null for cut-offs whose horizon
	// runs past the data, instead of refusing them.
	IncompleteLabels bool
}

// ExportResult is what Export wrote.
type ExportResult struct {
	Rows, Unlabelled int64
	// LastComplete is the last cut-off whose horizon the data covers.
	LastComplete time.Time
}

// IncompleteError refuses cut-offs whose churn horizon runs past the last
// day of orders: their label would call everyone who has simply not
// bought yet "churned".
type IncompleteError struct {
	Cutoffs                 []string
	Horizon                 int
	LastOrder, LastComplete time.Time
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("cut-off %s: its %d-day churn horizon is not complete in the data (orders up to %s); "+
		"the last complete cut-off is %s. Pick an earlier one, or add --incomplete-labels to write churned as null for it",
		strings.Join(e.Cutoffs, ", "), e.Horizon, e.LastOrder.Format(time.DateOnly), e.LastComplete.Format(time.DateOnly))
}

// Export builds the features of each cut-off and writes them with their
// churn label to o.Out (for notebooks, other tools, model fit churn).
func Export(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, o ExportOptions) (ExportResult, error) {
	var res ExportResult
	last, err := LastOrderDay(ctx, wh, conn)
	if err != nil {
		return res, err
	}
	res.LastComplete = last.AddDate(0, 0, 1-o.Horizon)
	var incomplete []string
	for _, d := range o.Cutoffs {
		if d.After(res.LastComplete) {
			incomplete = append(incomplete, d.Format(time.DateOnly))
		}
	}
	if len(incomplete) > 0 && !o.IncompleteLabels {
		return res, &IncompleteError{Cutoffs: incomplete, Horizon: o.Horizon, LastOrder: last, LastComplete: res.LastComplete}
	}
	for _, d := range o.Cutoffs {
		if _, err := Build(ctx, wh, conn, d); err != nil {
			return res, err
		}
	}
	format := "csv, header true" // the COPY options
	if strings.EqualFold(filepath.Ext(o.Out), ".parquet") {
		format = "parquet"
	}
	params := []any{sql.Named("cutoffs", o.Cutoffs), sql.Named("horizon", o.Horizon),
		sql.Named("last_complete", res.LastComplete.Format(time.DateOnly))}
	q, err := wh.SQL.Text(sqlfs.Ref{File: featuresSQL, Section: "export"})
	if err != nil {
		return res, err
	}
	q = strings.NewReplacer("{{file}}", warehouse.Quote(o.Out), "{{format}}", format).Replace(q)
	if _, err := warehouse.ExecScript(ctx, conn, q, params...); err != nil {
		return res, fmt.Errorf("export features: %w", err)
	}
	if err := wh.QueryRowSection(ctx, conn, sqlfs.Ref{File: featuresSQL, Section: "export_counts"}, params...).Scan(&res.Rows, &res.Unlabelled); err != nil {
		return res, fmt.Errorf("count exported features: %w", err)
	}
	return res, nil
}
