-- analytics.app_events: app events of consented customers, keyed by customer_key; no device id.
-- Filled by the split from kind.events (platform app) through keyed() (the consent
-- gate); rows of a batch are replaced as a whole, so a rerun adds nothing.
-- grain: one row per event_id

-- name: create
CREATE TABLE IF NOT EXISTS analytics.app_events (
    event_id      VARCHAR NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    event_date    DATE NOT NULL,
    customer_key  VARCHAR NOT NULL,
    event         VARCHAR NOT NULL,
    screen        VARCHAR,
    product_id    VARCHAR,
    category      VARCHAR,
    order_id      VARCHAR,
    amount        DECIMAL(18,2),
    campaign_id   VARCHAR,
    os            VARCHAR,
    _batch        VARCHAR NOT NULL,  -- ingest run that landed the row
    _source       VARCHAR            -- the source that landed it (per-source retention)
);

-- name: split
DELETE FROM analytics.app_events WHERE _batch IN (SELECT DISTINCT _run_id FROM kind.events WHERE platform = 'app');
INSERT INTO analytics.app_events
SELECT f.event_id, f.ts, f.event_date, f._customer_key, f.event, f.screen, f.product_id, f.category, f.order_id, f.amount, f.campaign_id, f.os,
       f._run_id, f._source
FROM keyed('kind.events') f
WHERE f._analytics AND f.platform = 'app' AND f.event <> 'identify'
-- Stored by month, then customer, then time (why: sql/README.md).
ORDER BY date_trunc('month', f.event_date), f._customer_key, f.ts;
