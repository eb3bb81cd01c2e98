-- cold.daily_activity: activity and revenue per day, channel (web, app,
-- store, email, call_center) and customer region. Built from additive
-- contributions (ops.cold_contrib_daily_activity, one set per ingest
-- batch, consented or not), then published under the k rule: a region
-- below k customers that day is rolled into region 'other'; an 'other'
-- still below k is suppressed. Regions are a customer attribute, so the
-- customers of rolled-up cells are distinct and add up exactly.
-- grain: one row per (day, channel, region)

-- name: create
CREATE TABLE IF NOT EXISTS ops.cold_contrib_daily_activity (
    batch             VARCHAR NOT NULL,
    day               DATE NOT NULL,
    channel           VARCHAR NOT NULL,
    region            VARCHAR NOT NULL,
    customers         BIGINT NOT NULL,   -- customers this batch added to the cell (ledger)
    events            BIGINT NOT NULL,
    orders            BIGINT NOT NULL,
    revenue           DECIMAL(18,2) NOT NULL
);
CREATE TABLE IF NOT EXISTS cold.daily_activity (
    day        DATE NOT NULL,
    channel    VARCHAR NOT NULL,
    region     VARCHAR NOT NULL,   -- 'other': regions under k customers that day
    customers  BIGINT NOT NULL,    -- distinct identified customers (till receipts without a card count no one)
    events     BIGINT NOT NULL,
    orders     BIGINT NOT NULL,
    revenue    DECIMAL(18,2) NOT NULL
);

-- name: contribute
-- temp: reads batches
DELETE FROM ops.cold_contrib_daily_activity WHERE batch IN (SELECT batch FROM batches);
DELETE FROM ops.cold_ledger WHERE cold_table = 'daily_activity' AND batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_ledger
SELECT 'daily_activity', a.cell, a.member, a.window_end, a.batch
FROM (SELECT concat_ws('|', day, channel, region) AS cell, member, max(day) AS window_end, min(batch) AS batch
      FROM activity WHERE member IS NOT NULL GROUP BY 1, 2) a
WHERE NOT EXISTS (SELECT 1 FROM ops.cold_ledger l
                  WHERE l.cold_table = 'daily_activity' AND l.cell = a.cell AND l.member = a.member);
INSERT INTO ops.cold_contrib_daily_activity
WITH fresh AS (
    SELECT batch, cell, count(*) AS customers FROM ops.cold_ledger
    WHERE cold_table = 'daily_activity' AND batch IN (SELECT batch FROM batches) GROUP BY ALL
), per_order AS (   -- purchases apart per order id: the distinct orders without a DISTINCT aggregate
    SELECT batch, day, channel, region, CASE WHEN kind = 'purchase' THEN order_id END AS purchase_order,
           count(*) AS events, sum(amount) FILTER (WHERE kind = 'purchase') AS revenue
    FROM activity GROUP BY ALL
), agg AS (
    SELECT batch, day, channel, region, concat_ws('|', day, channel, region) AS cell, sum(events) AS events,
           count(purchase_order) AS orders, coalesce(sum(revenue), 0) AS revenue
    FROM per_order GROUP BY batch, day, channel, region
)
SELECT a.batch, a.day, a.channel, a.region, coalesce(f.customers, 0), a.events, a.orders, a.revenue
FROM agg a LEFT JOIN fresh f USING (batch, cell);

-- name: publish
-- temp: builds cells, rolled
CREATE OR REPLACE TEMP TABLE cells AS
SELECT day, channel, region, sum(customers) AS customers, sum(events) AS events, sum(orders) AS orders, sum(revenue) AS revenue
FROM ops.cold_contrib_daily_activity GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE rolled AS
SELECT day, channel, 'other' AS region, sum(customers) AS customers, sum(events) AS events, sum(orders) AS orders,
       sum(revenue) AS revenue, count(*) AS cells
FROM cells WHERE customers < $k GROUP BY ALL;
DELETE FROM cold.daily_activity;
INSERT INTO cold.daily_activity
SELECT day, channel, region, customers, events, orders, revenue FROM cells WHERE customers >= $k
UNION ALL
SELECT day, channel, region, customers, events, orders, revenue FROM rolled WHERE customers >= $k
ORDER BY day, channel, region;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'daily_activity';
INSERT INTO cold.suppressed_cells
SELECT 'daily_activity', $k, (SELECT count(*) FROM cold.daily_activity),
       coalesce((SELECT sum(cells) FROM rolled WHERE customers >= $k), 0),
       coalesce((SELECT sum(cells) FROM rolled WHERE customers < $k), 0), CAST($date AS DATE);
