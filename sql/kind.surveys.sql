-- kind surveys: Survey answers: landing.<source> of every surveys source.
-- grain: one row per response_id

-- name: columns
-- The landing table of a surveys source (ingest adds the lineage columns).
response_id  VARCHAR,
ts           TIMESTAMPTZ,
event_date   DATE,
customer_id  VARCHAR,
email        VARCHAR,
nps          INTEGER,
csat         INTEGER,
verbatim     VARCHAR,
channel      VARCHAR

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days. Email fields come typed already
-- trimmed and lower-cased (norm_email).
SELECT
    response_id, ts, local_date(ts) AS event_date, customer_id, email,
    CAST(nps AS INTEGER) AS nps, CAST(csat AS INTEGER) AS csat, verbatim, channel,
    COLUMNS('^_')
FROM typed;

-- name: ids
SELECT _source AS source, 'surveys' AS kind, _fact AS fact, ts AS linked, NULL::TIMESTAMPTZ AS created,
       'response ' || response_id AS evidence, _ids AS ids
FROM kind.surveys;
