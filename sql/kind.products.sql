-- kind products: Product catalogue snapshot: landing.<source> of every products source.
-- grain: one row per product_id

-- name: columns
-- The landing table of a products source (ingest adds the lineage columns).
product_id  VARCHAR,
name        VARCHAR,
category    VARCHAR,
brand       VARCHAR,
price       DECIMAL(18,2)

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT product_id, name, category, brand, price, COLUMNS('^_')
FROM typed;
