-- landing.surveys: NPS / CSAT answers with verbatims.
-- grain: one row per response_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.surveys (
    response_id  VARCHAR,
    ts           TIMESTAMPTZ,
    event_date   DATE,
    customer_id  VARCHAR,
    email        VARCHAR,
    nps          INTEGER,
    csat         INTEGER,
    verbatim     VARCHAR,
    channel      VARCHAR,
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
ALTER TABLE landing.surveys ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    response_id, ts, local_date(ts) AS event_date, customer_id, norm_email(email) AS email,
    CAST(nps AS INTEGER) AS nps, CAST(csat AS INTEGER) AS csat, verbatim, channel,
    COLUMNS('^_')
FROM typed;
