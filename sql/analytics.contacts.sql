-- analytics.contacts: call-centre contacts of consented customers, keyed by customer_key; no phone number.
-- Filled by the split from kind.contacts through keyed() (the consent
-- gate); rows of a batch are replaced as a whole, so a rerun adds nothing.
-- grain: one row per contact_id

-- name: create
CREATE TABLE IF NOT EXISTS analytics.contacts (
    contact_id    VARCHAR NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    event_date    DATE NOT NULL,
    customer_key  VARCHAR NOT NULL,
    reason        VARCHAR,
    duration_s    BIGINT,
    resolved      BOOLEAN NOT NULL,
    ces           INTEGER,
    agent_id      VARCHAR,
    _batch        VARCHAR NOT NULL,  -- ingest run that landed the row
    _source       VARCHAR            -- the source that landed it (per-source retention)
);

-- name: split
DELETE FROM analytics.contacts WHERE _batch IN (SELECT DISTINCT _run_id FROM kind.contacts);
INSERT INTO analytics.contacts
SELECT f.contact_id, f.ts, f.event_date, f._customer_key, f.reason, f.duration_s, f.resolved, f.ces, f.agent_id,
       f._run_id, f._source
FROM keyed('kind.contacts') f
WHERE f._analytics
-- Stored by month, then customer, then time (why: sql/README.md).
ORDER BY date_trunc('month', f.event_date), f._customer_key, f.ts;
