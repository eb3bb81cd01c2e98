package main

import (
	"context"
	"database/sql"
	"time"

	"github.com/parcours/parcours/internal/warehouse"
)

// sourceStatus sums ops.ingest_files per source.
type sourceStatus struct {
	Source      string `json:"source"`
	Files       int64  `json:"files"`
	Read        int64  `json:"rows_read"`
	Loaded      int64  `json:"rows_loaded"`
	Quarantined int64  `json:"rows_quarantined"`
	Duplicates  int64  `json:"rows_duplicate"`
	Problems    string `json:"problems,omitempty"`
}

func ingestFiles(ctx context.Context, wh *warehouse.Warehouse, date *time.Time) ([]sourceStatus, error) {
	var d any
	if date != nil {
		d = *date
	}
	rows, err := wh.DB.QueryContext(ctx, `
SELECT source, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_duplicate),
       string_agg(CASE WHEN status NOT IN ('loaded', 'superseded') THEN file || ': ' || status END, '; ')
FROM ops.ingest_files
WHERE $date IS NULL OR folder_date = $date
GROUP BY source ORDER BY source`, sql.Named("date", d))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []sourceStatus{}
	for rows.Next() {
		var s sourceStatus
		var p sql.NullString
		if err := rows.Scan(&s.Source, &s.Files, &s.Read, &s.Loaded, &s.Quarantined, &s.Duplicates, &p); err != nil {
			return nil, err
		}
		s.Problems = p.String
		out = append(out, s)
	}
	return out, rows.Err()
}
