-- identity.customers: one row per stitched customer (connected component).
-- known = it holds at least one CRM customer id; the others are anonymous
-- visitors or contacts known only by an email or phone.
-- grain: one row per customer_key (a GROUP BY output; no PRIMARY KEY, whose
-- index would slow the nightly full rebuild several-fold)

-- name: create
CREATE TABLE IF NOT EXISTS identity.customers (
    customer_key        VARCHAR NOT NULL,
    known               BOOLEAN NOT NULL,
    representative_type VARCHAR NOT NULL,
    n_identifiers       INTEGER NOT NULL,
    n_customer_ids      INTEGER NOT NULL,
    first_seen          TIMESTAMPTZ
);

-- name: build
-- Every customer ($all), or those in id_keys: the customers a night's
-- incremental stitch touched (TEMP table of identity.incremental.sql swap).
-- temp: reads id_keys
DELETE FROM identity.customers WHERE $all OR customer_key IN (SELECT customer_key FROM id_keys);
INSERT INTO identity.customers
SELECT m.customer_key,
       count(*) FILTER (WHERE m.id_type = 'customer_id') > 0,
       -- the best identifier type: the CRM id, a custom type a source declared
       -- (account_id...), email, phone, card, device, cookie
       arg_min(m.id_type, CASE m.id_type WHEN 'customer_id' THEN '0' WHEN 'email' THEN '2' WHEN 'phone' THEN '3'
                                         WHEN 'loyalty_card' THEN '4' WHEN 'device_id' THEN '5' WHEN 'cookie_id' THEN '6'
                                         ELSE '1' END || m.id_type),
       count(*),
       count(*) FILTER (WHERE m.id_type = 'customer_id'),
       min(i.first_seen)
FROM identity.customer_map m JOIN identity.identifiers i USING (id_token)
WHERE $all OR m.customer_key IN (SELECT customer_key FROM id_keys)
GROUP BY m.customer_key;

-- name: exists
-- Is this a customer key?
SELECT count(*) > 0 FROM identity.customers WHERE customer_key = $customer_key;
