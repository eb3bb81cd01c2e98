-- landing.stores: stores and their catchment region, as of the newest snapshot.
-- grain: one row per store_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.stores (
    store_id  VARCHAR,
    name      VARCHAR,
    city      VARCHAR,
    postcode  VARCHAR,
    region    VARCHAR,
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
ALTER TABLE landing.stores ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT store_id, name, city, postcode, region, COLUMNS('^_')
FROM typed;
