-- landing.trigger_optouts: per-trigger opt-outs and opt-ins.
-- grain: one row per optout_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.trigger_optouts (
    optout_id    VARCHAR,
    ts           TIMESTAMPTZ,
    customer_id  VARCHAR,
    "trigger"    VARCHAR,
    status       VARCHAR,
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
ALTER TABLE landing.trigger_optouts ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT optout_id, ts, customer_id, "trigger", status, COLUMNS('^_')
FROM typed;
