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

// ingestFiles sums ops.ingest_files per source, for one folder date or
// (date nil) all of them.
func ingestFiles(ctx context.Context, wh *warehouse.Warehouse, date *time.Time) ([]sourceStatus, error) {
	var d any
	if date != nil {
		d = *date
	}
	q, err := wh.SQL.Section("report.status.sql", "ingest_files")
	if err != nil {
		return nil, err
	}
	rows, err := warehouse.Query(ctx, wh.DB, q, sql.Named("date", d))
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
