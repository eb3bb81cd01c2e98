-- ops.ingest_files: one row per extract file loaded (or refused), with its
-- fingerprint so an unchanged file is never loaded twice and a changed one
-- is reloaded. rows_read = rows_loaded + rows_quarantined + rows_duplicate
-- + rows_filtered for every loaded file. Files no source matches are
-- listed under the source "(unmatched)", empty files with status empty.
-- grain: one row per (source, file)

-- name: create
CREATE TABLE IF NOT EXISTS ops.ingest_files (
    source            VARCHAR     NOT NULL,
    file              VARCHAR     NOT NULL,
    folder_date       DATE        NOT NULL,
    size_bytes        BIGINT      NOT NULL,
    modified_at       TIMESTAMPTZ NOT NULL,
    status            VARCHAR     NOT NULL,  -- loaded | rejected (over threshold) | failed (unreadable, missing column) | empty | unmatched
    rows_read         BIGINT      NOT NULL DEFAULT 0,
    rows_loaded       BIGINT      NOT NULL DEFAULT 0,
    rows_quarantined  BIGINT      NOT NULL DEFAULT 0,
    rows_duplicate    BIGINT      NOT NULL DEFAULT 0,
    extra_columns     VARCHAR[],
    error             VARCHAR,
    run_id            VARCHAR     NOT NULL,
    loaded_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    nulled            JSON,                -- values dropped from loaded rows as invalid, by reason: {"email: not an email address": 3}
    rows_filtered     BIGINT DEFAULT 0,    -- rows the source's where kept out
    PRIMARY KEY (source, file)
);

-- name: stage
-- The files one step of a source's load records, appended here by ingest
-- (bound parameters cost ~0.25 ms a row: 0.2 s a source of 365 daily
-- files), then upserted by record in the order they were appended (n).
-- temp: builds ingest_files_stage
CREATE OR REPLACE TEMP TABLE ingest_files_stage (
    n BIGINT, source VARCHAR, file VARCHAR, folder_date DATE, size_bytes BIGINT, modified_at TIMESTAMPTZ,
    status VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_duplicate BIGINT,
    rows_filtered BIGINT, extra_columns VARCHAR[], error VARCHAR, nulled VARCHAR, run_id VARCHAR
);

-- name: record
-- A file recorded again (its status moving from loading to loaded, a
-- changed file reloaded) replaces its row; loaded_at is the time of this.
-- temp: reads ingest_files_stage
INSERT OR REPLACE INTO ops.ingest_files
    (source, file, folder_date, size_bytes, modified_at, status, rows_read, rows_loaded, rows_quarantined,
     rows_duplicate, rows_filtered, extra_columns, error, nulled, run_id)
SELECT source, file, folder_date, size_bytes, modified_at, status, rows_read, rows_loaded, rows_quarantined,
       rows_duplicate, rows_filtered, extra_columns, error, CAST(nulled AS JSON), run_id
FROM ingest_files_stage ORDER BY n;
DROP TABLE ingest_files_stage;

-- name: unmatched
-- Files of the date folders no source matched (`sources check`).
SELECT file FROM ops.ingest_files WHERE status = 'unmatched' ORDER BY file;

-- name: check_files
-- One source's files as `sources check` reports them.
SELECT file, status, rows_read, rows_loaded, coalesce(rows_filtered, 0), rows_quarantined,
       rows_duplicate, coalesce(error, ''), coalesce(extra_columns, []), coalesce(CAST(nulled AS VARCHAR), '{}')
FROM ops.ingest_files WHERE source = $source ORDER BY file;

-- name: last_folder
-- The newest date folder another date's ingest recorded (NULL: none). The
-- folders after it, up to the night's, are what the night loads: DuckDB's
-- memory is sized by their bytes when the config sets no limit. The runs
-- of the night's own date are left out, so a job run in its own process
-- after ingest (one scheduler task per job) gets the limit ingest had.
SELECT max(folder_date) FROM ops.ingest_files
WHERE run_id NOT IN (SELECT run_id FROM ops.job_runs WHERE job = 'ingest' AND logical_date = CAST($date AS DATE));
