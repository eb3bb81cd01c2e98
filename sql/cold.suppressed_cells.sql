-- cold.suppressed_cells: what the k-anonymity rule did to each cold table
-- at its last publication: cells rolled up into an "other" row and cells
-- suppressed outright (counts only).
-- grain: one row per cold table

-- name: create
CREATE TABLE IF NOT EXISTS cold.suppressed_cells (
    cold_table       VARCHAR NOT NULL,
    k                INTEGER NOT NULL,
    published_rows   BIGINT NOT NULL,
    rolled_up_cells  BIGINT NOT NULL,
    suppressed_cells BIGINT NOT NULL,
    published_at     DATE NOT NULL     -- logical date of the run
);

-- name: published_rows
-- Rows one cold table holds once published ({{table}}, quoted by the cold
-- job), for the run's counts.
SELECT count(*) FROM {{table}};

-- name: total_suppressed
-- Cells suppressed outright over every cold table, for the run's counts.
SELECT coalesce(sum(suppressed_cells), 0) FROM cold.suppressed_cells;

-- name: report_tables
-- What the k rule did to each cold table at its last publication, for the
-- report.
SELECT cold_table, k, published_rows, rolled_up_cells, suppressed_cells, published_at
FROM cold.suppressed_cells ORDER BY cold_table;
