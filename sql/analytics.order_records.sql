-- analytics.order_records: orders of consented customers as order sources
-- record them (an e-commerce or marketplace order export, orders summed
-- from order lines), keyed by customer_key; till receipts are
-- analytics.store_receipts. analytics.orders takes an order from here
-- before the purchase event of the same order id.
-- Filled by the split from kind.orders through keyed() (the consent
-- gate); rows of a batch are replaced as a whole, so a rerun adds nothing.
-- grain: one row per (_source, order_id)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.order_records (
    order_id      VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,   -- web | app | marketplace | store (without a store id) | ...
    store_id      VARCHAR,
    ts            TIMESTAMPTZ NOT NULL,
    event_date    DATE NOT NULL,
    customer_key  VARCHAR NOT NULL,
    amount        DECIMAL(18,2) NOT NULL,   -- paid, after discount and returns
    currency      VARCHAR,
    discount      DECIMAL(18,2),
    item_count    INTEGER,
    _source       VARCHAR NOT NULL,   -- the order source
    _batch        VARCHAR NOT NULL    -- ingest run that landed the row
);

-- name: split
DELETE FROM analytics.order_records WHERE _batch IN (SELECT DISTINCT _run_id FROM kind.orders);
INSERT INTO analytics.order_records
SELECT f.order_id, f.channel, f.store_id, f.ts, f.event_date, f._customer_key, f.amount, f.currency, f.discount, f.item_count,
       f._source, f._run_id
FROM keyed('kind.orders') f
WHERE f._analytics AND NOT (f.channel = 'store' AND f.store_id IS NOT NULL)
-- Stored by month, then customer, then time (why: sql/README.md).
ORDER BY date_trunc('month', f.event_date), f._customer_key, f.ts, f.order_id;
