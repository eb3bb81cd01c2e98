-- landing.marketing_spend: spend per day and paid channel; a later delivery corrects an earlier one.
-- grain: one row per (date, channel)

-- name: create
CREATE TABLE IF NOT EXISTS landing.marketing_spend (
    date     DATE,
    channel  VARCHAR,
    spend    DECIMAL(18,2),
    _file       VARCHAR,  -- extract file (relative to the input folder)
    _load_date  DATE,     -- folder date of that file
    _run_id     VARCHAR,
    _line       BIGINT,   -- Parquet row number; text formats keep it only in quarantine
    _extra      JSON,     -- columns the contract does not know, kept aside
    _reasons    VARCHAR,  -- contract violations (rows with any are moved to ops.quarantine)
    _field      VARCHAR,
    _raw        VARCHAR,
    _nulled     VARCHAR   -- values dropped as invalid, by reason (counted in ops.ingest_files.nulled)
);
ALTER TABLE landing.marketing_spend ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT date, channel, spend, COLUMNS('^_')
FROM typed;
