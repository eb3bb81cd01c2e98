-- kind contacts: Call-centre contacts: landing.<source> of every contacts source.
-- grain: one row per contact_id

-- name: columns
-- The landing table of a contacts source (ingest adds the lineage columns).
contact_id  VARCHAR,
ts          TIMESTAMPTZ,
event_date  DATE,
phone       VARCHAR,
reason      VARCHAR,
duration_s  BIGINT,
resolved    BOOLEAN,
ces         INTEGER,
agent_id    VARCHAR

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT
    contact_id, ts, local_date(ts) AS event_date, norm_phone(phone) AS phone, reason,
    duration_s, resolved, CAST(ces AS INTEGER) AS ces, agent_id,
    COLUMNS('^_')
FROM typed;

-- name: ids
SELECT _source AS source, 'contacts' AS kind, _fact AS fact, ts AS linked, NULL::TIMESTAMPTZ AS created,
       'contact ' || contact_id AS evidence, _ids AS ids
FROM kind.contacts;
