-- kind campaigns: Marketing campaigns, snapshot: landing.<source> of every campaigns source.
-- grain: one row per campaign_id

-- name: columns
-- The landing table of a campaigns source (ingest adds the lineage columns).
campaign_id   VARCHAR,
channel       VARCHAR,
name          VARCHAR,
utm_campaign  VARCHAR,
start_date    DATE,
end_date      DATE

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT campaign_id, channel, name, utm_campaign, start_date, end_date, COLUMNS('^_')
FROM typed;
