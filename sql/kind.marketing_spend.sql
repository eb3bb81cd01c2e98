-- kind marketing_spend: Marketing spend per day and channel (a later delivery corrects it):
-- landing.<source> of every marketing_spend source.
-- grain: one row per (date, channel)

-- name: columns
-- The landing table of a marketing_spend source (ingest adds the lineage columns).
date     DATE,
channel  VARCHAR,
spend    DECIMAL(18,2)

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT date, channel, spend, COLUMNS('^_')
FROM typed;
