-- kind order_lines: Order lines, one row per product of an order (a negative quantity is a
-- return): landing.<source> of every order_lines source. kind.orders sums
-- them into orders.
-- grain: one row per (order_id, product_id, quantity, unit_price)

-- name: columns
-- The landing table of a order_lines source (ingest adds the lineage columns).
order_id      VARCHAR,
ts            TIMESTAMPTZ,
event_date    DATE,
product_id    VARCHAR,
quantity      INTEGER,
unit_price    DECIMAL(18,2),
discount      DECIMAL(18,2),
currency      VARCHAR,
channel       VARCHAR,
store_id      VARCHAR

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT
    order_id, ts, local_date(ts) AS event_date, product_id, CAST(quantity AS INTEGER) AS quantity, unit_price,
    coalesce(discount, 0) AS discount, upper(currency) AS currency, lower(channel) AS channel, store_id,
    COLUMNS('^_')
FROM typed;
