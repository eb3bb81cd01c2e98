-- landing.email_events: email platform events (send, open, click, bounce, unsubscribe).
-- grain: one row per event_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.email_events (
    event_id     VARCHAR,
    campaign_id  VARCHAR,
    email        VARCHAR,
    event        VARCHAR,
    ts           TIMESTAMPTZ,
    event_date   DATE,
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
ALTER TABLE landing.email_events ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    event_id, campaign_id, norm_email(email) AS email, event, ts, local_date(ts) AS event_date,
    COLUMNS('^_')
FROM typed;
