-- analytics.orders: every purchase of a consented customer across channels
-- and sources (web and app purchase events, store receipts, order exports
-- and order lines), the base of RFM, CLV, churn and the KPIs. An order two
-- sources hold counts once: the order source's record (its amount after
-- discounts and returns) wins over the purchase event of the same order
-- id; an order whose returns cancel it (amount 0 or less) is not a
-- purchase. Derived from the hot fact tables: the purge rebuilds it whole,
-- so deletions flow through; the split recomputes the orders of its
-- batches' facts only (an order's row depends on the facts of its order
-- id alone), which `full_recompute` turns into a whole rebuild too.
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

-- name: empty
-- No order at all: the split rebuilds whole (a first night's catch-up).
SELECT NOT EXISTS (SELECT 1 FROM analytics.orders);

-- name: touched
-- The order ids a split may change: those of the hot facts of the landing
-- batches, run before the split replaces them (a rerun's) and after it
-- added them. A superset does no harm: an unchanged order is recomputed
-- as it was.
-- temp: builds orders_touched
CREATE TEMP TABLE IF NOT EXISTS orders_touched (order_id VARCHAR);
INSERT INTO orders_touched
WITH b AS (SELECT DISTINCT _run_id AS batch FROM (SELECT _run_id FROM kind.events UNION ALL SELECT _run_id FROM kind.orders))
SELECT order_id FROM analytics.web_events WHERE event = 'purchase' AND order_id IS NOT NULL AND _batch IN (SELECT batch FROM b)
UNION ALL
SELECT order_id FROM analytics.app_events WHERE event = 'purchase' AND order_id IS NOT NULL AND _batch IN (SELECT batch FROM b)
UNION ALL
SELECT receipt_id FROM analytics.store_receipts WHERE _batch IN (SELECT batch FROM b)
UNION ALL
SELECT order_id FROM analytics.order_records WHERE _batch IN (SELECT batch FROM b);

-- name: build
-- Every order ($all), or those whose id touched collected (the split's).
-- temp: builds orders_touched
CREATE TEMP TABLE IF NOT EXISTS orders_touched (order_id VARCHAR);
DELETE FROM analytics.orders WHERE $all OR order_id IN (SELECT order_id FROM orders_touched);
INSERT INTO analytics.orders
WITH ids AS (SELECT DISTINCT order_id FROM orders_touched),
recorded AS (   -- one record per order id, whatever the number of order sources
    SELECT * FROM analytics.order_records
    WHERE $all OR order_id IN (SELECT order_id FROM ids)
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _source, ts) = 1
)
SELECT order_id, 'web', arg_min(customer_key, ts), min(ts), min(event_date), arg_min(amount, ts), NULL, NULL
FROM analytics.web_events WHERE event = 'purchase' AND order_id IS NOT NULL
  AND ($all OR order_id IN (SELECT order_id FROM ids))
  AND order_id NOT IN (SELECT order_id FROM recorded) GROUP BY order_id
UNION ALL
SELECT order_id, 'app', arg_min(customer_key, ts), min(ts), min(event_date), arg_min(amount, ts), NULL, NULL
FROM analytics.app_events WHERE event = 'purchase' AND order_id IS NOT NULL
  AND ($all OR order_id IN (SELECT order_id FROM ids))
  AND order_id NOT IN (SELECT order_id FROM recorded) GROUP BY order_id
UNION ALL
SELECT receipt_id, 'store', customer_key, ts, event_date, amount, discount, item_count
FROM analytics.store_receipts WHERE $all OR receipt_id IN (SELECT order_id FROM ids)
UNION ALL
SELECT order_id, channel, customer_key, ts, event_date, amount, discount, item_count
FROM recorded WHERE amount > 0
ORDER BY ts;
DROP TABLE orders_touched;

-- name: transactions
-- Every purchase before $before, as the CLV model fits and scores them
-- (jobs/train Transactions). A total order: sums of same-day amounts
-- never depend on scan order.
SELECT customer_key, order_date, CAST(amount AS DOUBLE) FROM analytics.orders
WHERE order_date < $before ORDER BY customer_key, order_date, ts, order_id;

-- name: fit_transactions
-- Every purchase as `parcours model fit clv --transactions` reads a file
-- (customer_id, date, amount): what the bench exports through
-- `parcours query` to time a CLV fit.
SELECT customer_key AS customer_id, order_date AS date, amount FROM analytics.orders;
