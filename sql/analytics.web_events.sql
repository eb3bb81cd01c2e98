-- analytics.web_events: website events of consented customers (analytics consent valid at the event's time), keyed by customer_key; no cookie id.
-- Filled by the split from kind.events (platform web) through keyed() (the consent
-- gate); rows of a batch are replaced as a whole, so a rerun adds nothing.
-- grain: one row per event_id

-- name: create
CREATE TABLE IF NOT EXISTS analytics.web_events (
    event_id      VARCHAR NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    event_date    DATE NOT NULL,
    customer_key  VARCHAR NOT NULL,
    session_id    VARCHAR,
    event         VARCHAR NOT NULL,
    page          VARCHAR,
    product_id    VARCHAR,
    category      VARCHAR,
    order_id      VARCHAR,
    amount        DECIMAL(18,2),
    utm_source    VARCHAR,
    utm_medium    VARCHAR,
    utm_campaign  VARCHAR,
    channel       VARCHAR,
    device        VARCHAR,
    _batch        VARCHAR NOT NULL,  -- ingest run that landed the row
    _source       VARCHAR            -- the source that landed it (per-source retention)
);

-- name: split
DELETE FROM analytics.web_events WHERE _batch IN (SELECT DISTINCT _run_id FROM kind.events WHERE platform = 'web');
INSERT INTO analytics.web_events
SELECT f.event_id, f.ts, f.event_date, f._customer_key, f.session_id, f.event, f.page, f.product_id, f.category, f.order_id, f.amount,
       f.utm_source, f.utm_medium, f.utm_campaign, f.channel, f.device,
       f._run_id, f._source
FROM keyed('kind.events') f
WHERE f._analytics AND f.platform = 'web' AND f.event <> 'identify'
-- Stored by month, then customer, then time (why: sql/README.md).
ORDER BY date_trunc('month', f.event_date), f._customer_key, f.ts;
