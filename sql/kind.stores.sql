-- kind stores: Stores and their region, snapshot: landing.<source> of every stores source.
-- grain: one row per store_id

-- name: columns
-- The landing table of a stores source (ingest adds the lineage columns).
store_id  VARCHAR,
name      VARCHAR,
city      VARCHAR,
postcode  VARCHAR,
region    VARCHAR

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT store_id, name, city, postcode, region, COLUMNS('^_')
FROM typed;
