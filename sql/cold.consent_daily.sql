-- cold.consent_daily: the share of known customers who may be used for
-- each purpose at the end of each run's logical date (a snapshot per run,
-- kept: the report draws it over time). Counts only; a purpose consented
-- by fewer than k customers is not published.
-- grain: one row per (day, purpose)

-- name: create
CREATE TABLE IF NOT EXISTS cold.consent_daily (
    day        DATE NOT NULL,
    purpose    VARCHAR NOT NULL,
    known      BIGINT NOT NULL,   -- customers known that day (identity.customers)
    consented  BIGINT NOT NULL,   -- of whom with a valid consent for the purpose
    share      DOUBLE,
    customers  BIGINT NOT NULL    -- min(known, consented): what the row stands for
);

-- name: publish
DELETE FROM cold.consent_daily WHERE day = CAST($date AS DATE);
INSERT INTO cold.consent_daily
WITH known AS (
    SELECT count(*) AS n FROM identity.customers
), c AS (
    SELECT purpose, count(DISTINCT customer_key) AS n
    FROM consent.intervals
    WHERE valid_from < CAST($date AS DATE) + INTERVAL 1 DAY
      AND (valid_to IS NULL OR valid_to >= CAST($date AS DATE) + INTERVAL 1 DAY)
    GROUP BY purpose
)
SELECT CAST($date AS DATE), c.purpose, known.n, c.n, c.n / known.n, least(known.n, c.n)
FROM c, known
WHERE c.n >= $k AND known.n > 0
ORDER BY c.purpose;

-- name: report_shares
-- The consented share per purpose and day from $from to $to, for the
-- report's chart.
SELECT purpose, day, known, consented, share FROM cold.consent_daily
WHERE day BETWEEN CAST($from AS DATE) AND CAST($to AS DATE) ORDER BY purpose, day;
