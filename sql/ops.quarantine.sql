-- ops.quarantine: every input row that broke its source's contract, with
-- where it came from and why. Nothing is silently dropped: each input row
-- is either in a landing table, counted as a re-delivery, or here.
-- Holds raw text, so it lives in hot and is purged with the raw data.
-- grain: one row per rejected input row

-- name: create
CREATE SEQUENCE IF NOT EXISTS ops.quarantine_seq;
CREATE TABLE IF NOT EXISTS ops.quarantine (
    id              BIGINT      DEFAULT nextval('ops.quarantine_seq') PRIMARY KEY,
    source          VARCHAR     NOT NULL,
    file            VARCHAR     NOT NULL,  -- relative to the input folder
    line            BIGINT,                -- 1-based physical line (Parquet: row), header = line 1
    field           VARCHAR,               -- first field that broke the contract
    reason          VARCHAR     NOT NULL,
    raw             VARCHAR,               -- the row as written
    load_date       DATE        NOT NULL,  -- folder date of the file
    run_id          VARCHAR     NOT NULL,
    quarantined_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- name: check_reasons
-- One source's quarantined rows by field and reason, with three example
-- lines (`sources check`).
SELECT coalesce(field, ''), reason, count(*),
       list(file || ':' || coalesce(CAST(line AS VARCHAR), '?') ORDER BY file, line)[1:3]
FROM ops.quarantine WHERE source = $source GROUP BY ALL ORDER BY 3 DESC, 1, 2;

-- name: report_held
-- Quarantined rows still held per source, loaded from $from to $to: a
-- count for the report, the rows' text is never read.
SELECT source, count(*) FROM ops.quarantine
WHERE load_date BETWEEN CAST($from AS DATE) AND CAST($to AS DATE) GROUP BY source ORDER BY source;
