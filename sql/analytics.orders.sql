-- analytics.orders: every purchase of a consented customer across channels (web
-- and app checkouts, store receipts), the base of RFM, CLV and churn.
-- Rebuilt from the hot fact tables each run, so purges flow through.
-- grain: one row per (channel, order_id)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.orders (
    order_id      VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,   -- web | app | store
    customer_key  VARCHAR NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    order_date    DATE NOT NULL,
    amount        DECIMAL(18,2) NOT NULL,
    discount      DECIMAL(18,2),
    items         INTEGER
);

-- name: build
DELETE FROM analytics.orders;
INSERT INTO analytics.orders
SELECT order_id, 'web', arg_min(customer_key, ts), min(ts), min(event_date), arg_min(amount, ts), NULL, NULL
FROM analytics.web_events WHERE event = 'purchase' AND order_id IS NOT NULL GROUP BY order_id
UNION ALL
SELECT order_id, 'app', arg_min(customer_key, ts), min(ts), min(event_date), arg_min(amount, ts), NULL, NULL
FROM analytics.app_events WHERE event = 'purchase' AND order_id IS NOT NULL GROUP BY order_id
UNION ALL
SELECT receipt_id, 'store', customer_key, ts, event_date, amount, discount, item_count
FROM analytics.store_receipts
ORDER BY ts;
