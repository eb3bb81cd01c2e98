-- landing.products: the product catalogue, as of the newest snapshot.
-- grain: one row per product_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.products (
    product_id  VARCHAR,
    name        VARCHAR,
    category    VARCHAR,
    brand       VARCHAR,
    price       DECIMAL(18,2),
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
ALTER TABLE landing.products ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT product_id, name, category, brand, price, COLUMNS('^_')
FROM typed;
