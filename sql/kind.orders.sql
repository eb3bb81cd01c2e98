-- kind orders: Orders and till receipts, one row per order: landing.<source> of every
-- orders source.
-- grain: one row per order_id

-- name: columns
-- The landing table of a orders source (ingest adds the lineage columns).
order_id      VARCHAR,
ts            TIMESTAMPTZ,
event_date    DATE,
channel       VARCHAR,  -- store | web | app | marketplace | ...
store_id      VARCHAR,
items         STRUCT(sku VARCHAR, qty INTEGER, unit_price DECIMAL(18,2))[],
item_count    INTEGER,
amount        DECIMAL(18,2),
currency      VARCHAR,
discount      DECIMAL(18,2),
payment       VARCHAR

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT
    order_id, ts, local_date(ts) AS event_date,
    coalesce(lower(channel), CASE WHEN store_id IS NOT NULL THEN 'store' ELSE 'web' END) AS channel, store_id,
    -- items is "sku:qty:unit_price|..." (the contract checked the format)
    list_transform(string_split(items, '|'), lambda it: {
        'sku': split_part(it, ':', 1),
        'qty': TRY_CAST(split_part(it, ':', 2) AS INTEGER),
        'unit_price': TRY_CAST(split_part(it, ':', 3) AS DECIMAL(18,2))
    }) AS items,
    CAST(list_sum(list_transform(string_split(items, '|'), lambda it: TRY_CAST(split_part(it, ':', 2) AS INTEGER))) AS INTEGER) AS item_count,
    amount, upper(currency) AS currency, coalesce(discount, 0) AS discount, payment,
    COLUMNS('^_')
FROM typed;

-- name: also
-- The orders order_lines sources describe, one per order: amount =
-- quantity x unit price less the lines' discounts (returns, negative
-- quantities, reduce it), the lines' identifiers together.
SELECT order_id, min(ts) AS ts, min(event_date) AS event_date,
       coalesce(min(channel), CASE WHEN min(store_id) IS NOT NULL THEN 'store' ELSE 'web' END) AS channel,
       min(store_id) AS store_id,
       list({'sku': product_id, 'qty': quantity, 'unit_price': unit_price} ORDER BY product_id, quantity, unit_price) AS items,
       CAST(sum(quantity) AS INTEGER) AS item_count,
       CAST(sum(quantity * unit_price) - sum(discount) AS DECIMAL(18,2)) AS amount,
       min(currency) AS currency, CAST(sum(discount) AS DECIMAL(18,2)) AS discount, NULL::VARCHAR AS payment,
       _source, order_id AS _fact, list_sort(list_distinct(flatten(list(_ids)))) AS _ids,
       min(_file) AS _file, min(_load_date) AS _load_date, max(_run_id) AS _run_id
FROM kind.order_lines
GROUP BY _source, order_id;

-- name: ids
SELECT _source AS source, 'orders' AS kind, _fact AS fact, ts AS linked, NULL::TIMESTAMPTZ AS created,
       'order ' || order_id AS evidence, _ids AS ids
FROM kind.orders;
