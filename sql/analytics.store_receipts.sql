-- analytics.store_receipts: till receipts of consented customers (identified by loyalty card), keyed by customer_key; no card number.
-- Filled by the hot job from landing.pos_transactions through fact_keys (the consent
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
    _batch        VARCHAR NOT NULL  -- ingest run that landed the row
);

-- name: split
DELETE FROM analytics.store_receipts WHERE _batch IN (SELECT DISTINCT _run_id FROM landing.pos_transactions);
INSERT INTO analytics.store_receipts
SELECT f.receipt_id, f.store_id, f.ts, f.event_date, k.customer_key, f.items, f.item_count, f.amount, f.discount, f.payment,
       f._run_id
FROM landing.pos_transactions f
JOIN fact_keys k ON k.source = 'pos_transactions' AND k.fact_id = f.receipt_id
WHERE k.analytics
ORDER BY f.ts;
