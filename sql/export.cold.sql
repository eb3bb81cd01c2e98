-- export.cold: what the export job (jobs/export) runs to write the cold
-- store as Parquet under <export_dir>/cold/: the tables to write, one COPY
-- per table and its row count for the manifest. Nothing here writes to
-- the warehouse.

-- name: tables
-- The cold store's tables, by name: one Parquet file each.
SELECT table_name FROM information_schema.tables WHERE table_catalog = 'cold' AND table_schema = 'main' ORDER BY 1;

-- name: copy
-- Writes one cold table ({{table}}, quoted by the job) to a Parquet file
-- ({{path}}, the temporary name the job renames into place).
COPY (SELECT * FROM cold.main.{{table}}) TO {{path}} (FORMAT parquet, COMPRESSION zstd);

-- name: count
-- Rows of one cold table ({{table}}, quoted by the job), for the manifest.
SELECT count(*) FROM cold.main.{{table}};
