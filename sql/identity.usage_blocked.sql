-- identity.usage_blocked: identifiers blocked for how they are used rather
-- than for whom they link: a loyalty card scanned on more receipts in one
-- day than a person makes, or in several stores the same day (a generic
-- card kept at the tills) is the shops', not a customer's. Kept for good once detected (landing only
-- holds one batch); the stitcher treats them like any blocked identifier.
-- grain: one row per id_token

-- name: create
CREATE TABLE IF NOT EXISTS identity.usage_blocked (
    id_token     VARCHAR NOT NULL,
    id_type      VARCHAR NOT NULL,
    label        VARCHAR,
    max_per_day  INTEGER NOT NULL,   -- most receipts seen in one day
    first_day    DATE NOT NULL       -- the day that showed it
);

-- name: extract
INSERT INTO identity.usage_blocked
SELECT pseudonym('loyalty_card', loyalty_card), 'loyalty_card', mask_identifier('loyalty_card', loyalty_card),
       max(n), first(event_date ORDER BY n DESC, event_date)   -- the earliest of the busiest days: ties broken the same way every run
FROM (SELECT i."value" AS loyalty_card, o.event_date, count(*) AS n, count(DISTINCT o.store_id) AS stores
      FROM kind.orders o, unnest(o._ids) AS u(i)
      WHERE o.channel = 'store' AND i."type" = 'loyalty_card' GROUP BY ALL)
WHERE n > $max_receipts OR stores >= $max_stores
GROUP BY loyalty_card
HAVING pseudonym('loyalty_card', loyalty_card) NOT IN (SELECT id_token FROM identity.usage_blocked);
