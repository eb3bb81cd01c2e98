-- analytics.email_events: email platform events of consented customers, keyed by customer_key; no address.
-- Filled by the split from kind.email_events through keyed() (the consent
-- gate); rows of a batch are replaced as a whole, so a rerun adds nothing.
-- grain: one row per event_id

-- name: create
CREATE TABLE IF NOT EXISTS analytics.email_events (
    event_id      VARCHAR NOT NULL,
    campaign_id   VARCHAR NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    event_date    DATE NOT NULL,
    customer_key  VARCHAR NOT NULL,
    event         VARCHAR NOT NULL,
    _batch        VARCHAR NOT NULL,  -- ingest run that landed the row
    _source       VARCHAR            -- the source that landed it (per-source retention)
);

-- name: split
DELETE FROM analytics.email_events WHERE _batch IN (SELECT DISTINCT _run_id FROM kind.email_events);
INSERT INTO analytics.email_events
SELECT f.event_id, f.campaign_id, f.ts, f.event_date, f._customer_key, f.event,
       f._run_id, f._source
FROM keyed('kind.email_events') f
WHERE f._analytics
-- Stored by month, then customer, then time (why: sql/README.md).
ORDER BY date_trunc('month', f.event_date), f._customer_key, f.ts;
