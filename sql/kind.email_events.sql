-- kind email_events: Email platform activity: landing.<source> of every email_events source.
-- grain: one row per event_id

-- name: columns
-- The landing table of a email_events source (ingest adds the lineage columns).
event_id     VARCHAR,
campaign_id  VARCHAR,
email        VARCHAR,
event        VARCHAR,
ts           TIMESTAMPTZ,
event_date   DATE

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days. Email fields come typed already
-- trimmed and lower-cased (norm_email).
SELECT
    event_id, campaign_id, email, event, ts, local_date(ts) AS event_date,
    COLUMNS('^_')
FROM typed;

-- name: ids
SELECT _source AS source, 'email_events' AS kind, _fact AS fact, ts AS linked, NULL::TIMESTAMPTZ AS created,
       'email event ' || event_id AS evidence, _ids AS ids
FROM kind.email_events;
