-- landing.campaigns: marketing campaigns, as of the newest snapshot.
-- grain: one row per campaign_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.campaigns (
    campaign_id   VARCHAR,
    channel       VARCHAR,
    name          VARCHAR,
    utm_campaign  VARCHAR,
    start_date    DATE,
    end_date      DATE,
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
ALTER TABLE landing.campaigns ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT campaign_id, channel, name, utm_campaign, start_date, end_date, COLUMNS('^_')
FROM typed;
