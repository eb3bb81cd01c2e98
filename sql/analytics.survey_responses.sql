-- analytics.survey_responses: survey answers of consented customers, keyed by customer_key; no email. The verbatim is kept as written (free text may mention anything: it is erased with the customer).
-- Filled by the split from kind.surveys through keyed() (the consent
-- gate); rows of a batch are replaced as a whole, so a rerun adds nothing.
-- grain: one row per response_id

-- name: create
CREATE TABLE IF NOT EXISTS analytics.survey_responses (
    response_id   VARCHAR NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    event_date    DATE NOT NULL,
    customer_key  VARCHAR NOT NULL,
    nps           INTEGER,
    csat          INTEGER,
    verbatim      VARCHAR,
    channel       VARCHAR,
    _batch        VARCHAR NOT NULL,  -- ingest run that landed the row
    _source       VARCHAR            -- the source that landed it (per-source retention)
);

-- name: split
DELETE FROM analytics.survey_responses WHERE _batch IN (SELECT DISTINCT _run_id FROM kind.surveys);
INSERT INTO analytics.survey_responses
SELECT f.response_id, f.ts, f.event_date, f._customer_key, f.nps, f.csat, f.verbatim, f.channel,
       f._run_id, f._source
FROM keyed('kind.surveys') f
WHERE f._analytics
-- Stored by month, then customer, then time (why: sql/README.md).
ORDER BY date_trunc('month', f.event_date), f._customer_key, f.ts;
