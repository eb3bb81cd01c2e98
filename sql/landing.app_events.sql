-- landing.app_events: mobile app events, deduplicated on event_id, in UTC.
-- grain: one row per event_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.app_events (
    event_id     VARCHAR,
    ts           TIMESTAMPTZ,
    event_date   DATE,
    device_id    VARCHAR,
    user_id      VARCHAR,
    event        VARCHAR,
    screen       VARCHAR,
    product_id   VARCHAR,
    category     VARCHAR,
    order_id     VARCHAR,
    amount       DECIMAL(18,2),
    campaign_id  VARCHAR,
    os           VARCHAR,
    app_version  VARCHAR,
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
ALTER TABLE landing.app_events ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    event_id, ts, local_date(ts) AS event_date, device_id, user_id, event, screen,
    product_id, category, order_id, amount, campaign_id, os, app_version,
    COLUMNS('^_')
FROM typed;
