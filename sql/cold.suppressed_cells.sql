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
