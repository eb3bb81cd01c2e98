-- cold.cohort_retention: of the customers acquired (first purchase) in a
-- month, how many bought again in each later month. Acquisition months
-- are remembered per customer in ops.cold_cohorts, so a cohort is counted
-- right although its purchases arrive over many nightly runs. Cells under
-- k customers are suppressed.
-- grain: one row per (cohort_month, activity_month)

-- name: create
CREATE TABLE IF NOT EXISTS ops.cold_contrib_cohort_retention (
    batch           VARCHAR NOT NULL,
    cohort_month    DATE NOT NULL,
    activity_month  DATE NOT NULL,
    customers       BIGINT NOT NULL,
    orders          BIGINT NOT NULL,
    revenue         DECIMAL(18,2) NOT NULL
);
CREATE TABLE IF NOT EXISTS cold.cohort_retention (
    cohort_month    DATE NOT NULL,
    activity_month  DATE NOT NULL,
    months_since    INTEGER NOT NULL,  -- 0 = the acquisition month
    customers       BIGINT NOT NULL,   -- cohort customers who bought that month
    cohort_size     BIGINT,            -- customers acquired in cohort_month (NULL if that cell is under k)
    retention       DOUBLE,            -- customers / cohort_size
    orders          BIGINT NOT NULL,
    revenue         DECIMAL(18,2) NOT NULL
);

-- name: contribute
-- temp: builds cohort_buys; reads batches
DELETE FROM ops.cold_cohorts WHERE batch IN (SELECT batch FROM batches);
-- A new customer's acquisition channel is the first touch of the lookback
-- window before their first purchase (that purchase's own touch included:
-- a first purchase in store with nothing before it is 'store').
INSERT INTO ops.cold_cohorts (member, cohort_month, batch, first_day, acquired_via)
WITH buy AS (
    SELECT member, min(day) AS first_day, min(ts) AS first_ts, arg_min(batch, day) AS batch
    FROM activity
    WHERE kind = 'purchase' AND member IS NOT NULL AND member NOT IN (SELECT member FROM ops.cold_cohorts)
    GROUP BY member
), touches AS (
    SELECT member, ts, touch FROM activity WHERE member IS NOT NULL AND touch IS NOT NULL
    UNION ALL
    SELECT member, ts, touch FROM ops.cold_touches WHERE touch <> '#purchase'
), firsts AS (
    SELECT b.member, arg_min(t.touch, t.ts) AS touch
    FROM buy b JOIN touches t ON t.member = b.member
     AND t.ts <= b.first_ts AND t.ts > b.first_ts - to_days(CAST($lookback_days AS INTEGER))
    GROUP BY b.member
)
SELECT b.member, date_trunc('month', b.first_day), b.batch, b.first_day, coalesce(f.touch, 'unknown')
FROM buy b LEFT JOIN firsts f USING (member);
CREATE OR REPLACE TEMP TABLE cohort_buys AS
SELECT a.batch, a.member, c.cohort_month, CAST(date_trunc('month', a.day) AS DATE) AS activity_month, a.order_id, a.amount
FROM activity a JOIN ops.cold_cohorts c USING (member)
WHERE a.kind = 'purchase' AND date_trunc('month', a.day) >= c.cohort_month;
DELETE FROM ops.cold_contrib_cohort_retention WHERE batch IN (SELECT batch FROM batches);
DELETE FROM ops.cold_ledger WHERE cold_table = 'cohort_retention' AND batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_ledger
SELECT 'cohort_retention', a.cell, a.member, a.window_end, a.batch
FROM (SELECT concat_ws('|', cohort_month, activity_month) AS cell, member, max(last_day(activity_month)) AS window_end, min(batch) AS batch
      FROM cohort_buys GROUP BY 1, 2) a
WHERE NOT EXISTS (SELECT 1 FROM ops.cold_ledger l
                  WHERE l.cold_table = 'cohort_retention' AND l.cell = a.cell AND l.member = a.member);
INSERT INTO ops.cold_contrib_cohort_retention
WITH fresh AS (
    SELECT batch, cell, count(*) AS customers FROM ops.cold_ledger
    WHERE cold_table = 'cohort_retention' AND batch IN (SELECT batch FROM batches) GROUP BY ALL
), agg AS (
    SELECT batch, cohort_month, activity_month, concat_ws('|', cohort_month, activity_month) AS cell,
           count(DISTINCT order_id) AS orders, coalesce(sum(amount), 0) AS revenue
    FROM cohort_buys GROUP BY ALL
)
SELECT a.batch, a.cohort_month, a.activity_month, coalesce(f.customers, 0), a.orders, a.revenue
FROM agg a LEFT JOIN fresh f USING (batch, cell);

-- name: publish
-- temp: builds cells
CREATE OR REPLACE TEMP TABLE cells AS
SELECT cohort_month, activity_month, sum(customers) AS customers, sum(orders) AS orders, sum(revenue) AS revenue
FROM ops.cold_contrib_cohort_retention GROUP BY ALL;
DELETE FROM cold.cohort_retention;
INSERT INTO cold.cohort_retention
SELECT c.cohort_month, c.activity_month, CAST(datediff('month', c.cohort_month, c.activity_month) AS INTEGER),
       c.customers, s.customers, c.customers / s.customers, c.orders, c.revenue
FROM cells c
LEFT JOIN cells s ON s.cohort_month = c.cohort_month AND s.activity_month = c.cohort_month AND s.customers >= $k
WHERE c.customers >= $k
ORDER BY c.cohort_month, c.activity_month;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'cohort_retention';
INSERT INTO cold.suppressed_cells
SELECT 'cohort_retention', $k, (SELECT count(*) FROM cold.cohort_retention), 0,
       (SELECT count(*) FROM cells WHERE customers < $k), CAST($date AS DATE);
