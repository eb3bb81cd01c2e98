package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/parcours/parcours/internal/warehouse"
)

// NightBytes is the size of the input a night of date loads: the files of
// the date folders after the newest one another date's ingest recorded, up
// to date's own (ops.ingest_files.sql last_folder). A missing input folder
// loads nothing.
func NightBytes(ctx context.Context, wh *warehouse.Warehouse, input string, date time.Time) (int64, error) {
	q, err := wh.SQL.Section("ops.ingest_files.sql", "last_folder")
	if err != nil {
		return 0, err
	}
	var last sql.NullTime
	if err := wh.DB.QueryRowContext(ctx, q, sql.Named("date", date.Format(time.DateOnly))).Scan(&last); err != nil {
		return 0, fmt.Errorf("ops.ingest_files.sql last_folder: %w", err)
	}
	all, err := folders(input)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	for _, d := range all {
		if d.After(date) || (last.Valid && !d.After(last.Time)) {
			continue
		}
		files, err := listFolder(input, d)
		if err != nil {
			return 0, err
		}
		for _, f := range files {
			n += f.Size
		}
	}
	return n, nil
}

// SizeMemory gives DuckDB the memory limit of a night of date
// (warehouse.NightMemoryLimit of its NightBytes): a night of one day's
// folder keeps to a few GiB instead of filling a cache with the machine's
// share. The caller skips it when the config sets a limit.
func SizeMemory(ctx context.Context, wh *warehouse.Warehouse, input string, date time.Time, log zerolog.Logger) error {
	n, err := NightBytes(ctx, wh, input, date)
	if err != nil {
		return fmt.Errorf("size DuckDB's memory for the night: %w", err)
	}
	limit := warehouse.NightMemoryLimit(n)
	if limit == "" {
		return nil // the machine's memory is unknown: DuckDB's default
	}
	log.Info().Int64("input_bytes", n).Str("memory_limit", limit).Msg("DuckDB memory limit sized by the night's input")
	return wh.SetMemoryLimit(ctx, limit)
}
