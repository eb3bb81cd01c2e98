-- landing.pos_transactions: store receipts with their line items parsed.
-- grain: one row per receipt_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.pos_transactions (
    receipt_id    VARCHAR,
    store_id      VARCHAR,
    ts            TIMESTAMPTZ,  -- till local time read in the business time zone
    event_date    DATE,
    loyalty_card  VARCHAR,
    items         STRUCT(sku VARCHAR, qty INTEGER, unit_price DECIMAL(18,2))[],
    item_count    INTEGER,
    amount        DECIMAL(18,2),
    discount      DECIMAL(18,2),
    payment       VARCHAR,
    _file       VARCHAR,  -- extract file (relative to the input folder)
    _load_date  DATE,     -- folder date of that file
    _run_id     VARCHAR,
    _line       BIGINT,   -- Parquet row number; text formats keep it only in quarantine
    _extra      JSON,     -- columns the contract does not know, kept aside
    _reasons    VARCHAR,  -- contract violations (rows with any are moved to ops.quarantine)
    _field      VARCHAR,
    _raw        VARCHAR,
    _nulled     VARCHAR   -- values dropped as invalid, by reason (counted in ops.ingest_files.nulled)
);
ALTER TABLE landing.pos_transactions ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    receipt_id, store_id, ts, local_date(ts) AS event_date, loyalty_card,
    -- items is "sku:qty:unit_price|..." (the contract checked the format)
    list_transform(string_split(items, '|'), it -> {
        'sku': split_part(it, ':', 1),
        'qty': TRY_CAST(split_part(it, ':', 2) AS INTEGER),
        'unit_price': TRY_CAST(split_part(it, ':', 3) AS DECIMAL(18,2))
    }) AS items,
    CAST(list_sum(list_transform(string_split(items, '|'), it -> TRY_CAST(split_part(it, ':', 2) AS INTEGER))) AS INTEGER) AS item_count,
    amount, coalesce(discount, 0) AS discount, payment,
    COLUMNS('^_')
FROM typed;
