-- cold.conversion_paths: per month, the channel sequences that led to a
-- purchase (the customer's touchpoints in the lookback window before it,
-- oldest first, truncated to the last max_touches), with conversions,
-- value and distinct customers: the input of attribution. Touchpoints:
-- a web session (by its marketing channel: paid_search, email, direct...),
-- an app session, a push open, an email click, a store visit, a call.
-- They are buffered pseudonymously in ops.cold_touches only for the
-- lookback window. Paths under k customers are suppressed.
-- grain: one row per (month, path)

-- name: create
CREATE TABLE IF NOT EXISTS ops.cold_contrib_conversion_paths (
    batch        VARCHAR NOT NULL,
    month        DATE NOT NULL,
    path         VARCHAR NOT NULL,
    customers    BIGINT NOT NULL,
    conversions  BIGINT NOT NULL,
    value        DECIMAL(18,2) NOT NULL
);
CREATE TABLE IF NOT EXISTS cold.conversion_paths (
    month        DATE NOT NULL,
    path         VARCHAR NOT NULL,  -- 'paid_search > email_click > store'
    touches      INTEGER NOT NULL,
    customers    BIGINT NOT NULL,
    conversions  BIGINT NOT NULL,
    value        DECIMAL(18,2) NOT NULL
);

-- name: contribute
DELETE FROM ops.cold_touches WHERE batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_touches
SELECT member, min(ts), touch, min(batch)
FROM activity
WHERE member IS NOT NULL AND touch IS NOT NULL
GROUP BY member, touch, coalesce(session, CAST(ts AS VARCHAR));
CREATE OR REPLACE TEMP TABLE conversions AS
WITH conv AS (
    SELECT min(batch) AS batch, member, order_id, min(ts) AS ts, arg_min(amount, ts) AS amount
    FROM activity WHERE kind = 'purchase' AND member IS NOT NULL AND order_id IS NOT NULL
    GROUP BY member, order_id
), conv_days AS (
    -- Each conversion meets only the touches of its lookback days: an
    -- equi-join on (member, day) instead of every touch of the member.
    SELECT c.*, CAST(c.ts AS DATE) - CAST(d AS INTEGER) AS day
    FROM conv c, range(0, CAST($lookback_days AS INTEGER) + 1) r(d)
), p AS (
    SELECT c.batch, c.member, c.order_id, c.ts, c.amount, list(t.touch ORDER BY t.ts, t.touch) AS touches
    FROM conv_days c
    JOIN ops.cold_touches t ON t.member = c.member AND CAST(t.ts AS DATE) = c.day
    WHERE t.ts <= c.ts AND t.ts > c.ts - to_days(CAST($lookback_days AS INTEGER))
    GROUP BY ALL
)
SELECT batch, member, CAST(date_trunc('month', ts) AS DATE) AS month, amount,
       array_to_string(list_slice(touches, greatest(len(touches) - $max_touches + 1, 1), len(touches)), ' > ') AS path
FROM p;
DELETE FROM ops.cold_contrib_conversion_paths WHERE batch IN (SELECT batch FROM batches);
DELETE FROM ops.cold_ledger WHERE cold_table = 'conversion_paths' AND batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_ledger
SELECT 'conversion_paths', cell, member, max(last_day(month)), min(batch)
FROM (SELECT concat_ws('|', month, path) AS cell, member, month, batch FROM conversions) a
WHERE NOT EXISTS (SELECT 1 FROM ops.cold_ledger l
                  WHERE l.cold_table = 'conversion_paths' AND l.cell = a.cell AND l.member = a.member)
GROUP BY cell, member;
INSERT INTO ops.cold_contrib_conversion_paths
WITH fresh AS (
    SELECT batch, cell, count(*) AS customers FROM ops.cold_ledger
    WHERE cold_table = 'conversion_paths' AND batch IN (SELECT batch FROM batches) GROUP BY ALL
), agg AS (
    SELECT batch, month, path, concat_ws('|', month, path) AS cell, count(*) AS conversions, coalesce(sum(amount), 0) AS value
    FROM conversions GROUP BY ALL
)
SELECT a.batch, a.month, a.path, coalesce(f.customers, 0), a.conversions, a.value
FROM agg a LEFT JOIN fresh f USING (batch, cell);

-- name: publish
CREATE OR REPLACE TEMP TABLE cells AS
SELECT month, path, sum(customers) AS customers, sum(conversions) AS conversions, sum(value) AS value
FROM ops.cold_contrib_conversion_paths GROUP BY ALL;
DELETE FROM cold.conversion_paths;
INSERT INTO cold.conversion_paths
SELECT month, path, len(string_split(path, ' > ')), customers, conversions, value
FROM cells WHERE customers >= $k ORDER BY month, conversions DESC, path;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'conversion_paths';
INSERT INTO cold.suppressed_cells
SELECT 'conversion_paths', $k, (SELECT count(*) FROM cold.conversion_paths), 0,
       (SELECT count(*) FROM cells WHERE customers < $k), CAST($date AS DATE);
