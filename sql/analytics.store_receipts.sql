-- analytics.store_receipts: till receipts of consented customers (identified by loyalty card), keyed by customer_key; no card number.
-- Filled by the split from kind.orders (channel store) through keyed() (the consent
-- gate); rows of a batch are replaced as a whole, so a rerun adds nothing.
-- grain: one row per receipt_id

-- name: create
CREATE TABLE IF NOT EXISTS analytics.store_receipts (
    receipt_id    VARCHAR NOT NULL,
    store_id      VARCHAR NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    event_date    DATE NOT NULL,
    customer_key  VARCHAR NOT NULL,
    items         STRUCT(sku VARCHAR, qty INTEGER, unit_price DECIMAL(18,2))[],
    item_count    INTEGER,
    amount        DECIMAL(18,2) NOT NULL,
    discount      DECIMAL(18,2),
    payment       VARCHAR,
    _batch        VARCHAR NOT NULL,  -- ingest run that landed the row
    _source       VARCHAR            -- the source that landed it (per-source retention)
);

-- name: split
DELETE FROM analytics.store_receipts WHERE _batch IN (SELECT DISTINCT _run_id FROM kind.orders WHERE channel = 'store' AND store_id IS NOT NULL);
INSERT INTO analytics.store_receipts
SELECT f.order_id, f.store_id, f.ts, f.event_date, f._customer_key, f.items, f.item_count, f.amount, f.discount, f.payment,
       f._run_id, f._source
FROM keyed('kind.orders') f
WHERE f._analytics AND f.channel = 'store' AND f.store_id IS NOT NULL
-- Stored by month, then customer, then time (why: sql/README.md).
ORDER BY date_trunc('month', f.event_date), f._customer_key, f.ts;
