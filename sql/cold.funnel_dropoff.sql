-- cold.funnel_dropoff: journey friction per month and channel (web, app,
-- and 'all'): sessions reaching each funnel step, their share of visits,
-- and the share of the previous step's sessions lost at this step. Built
-- from the published (k-anonymous) cold.funnel_daily; customers is the
-- largest cell behind the row.
-- grain: one row per (month, channel, step)

-- name: create
CREATE TABLE IF NOT EXISTS cold.funnel_dropoff (
    month          DATE NOT NULL,
    channel        VARCHAR NOT NULL,   -- web | app | all
    step           VARCHAR NOT NULL,   -- visit | product_view | cart | checkout | purchase
    step_order     INTEGER NOT NULL,   -- 1..5
    sessions       BIGINT NOT NULL,
    reached_share  DOUBLE,             -- sessions / visits
    drop_off       DOUBLE,             -- 1 - sessions / previous step's sessions (NULL for visit)
    customers      BIGINT NOT NULL
);

-- name: publish
DELETE FROM cold.funnel_dropoff;
INSERT INTO cold.funnel_dropoff
WITH m AS (
    SELECT CAST(date_trunc('month', day) AS DATE) AS month, coalesce(channel, 'all') AS channel,
           sum(visits) AS visit, sum(product_views) AS product_view, sum(carts) AS cart,
           sum(checkouts) AS checkout, sum(purchases) AS purchase, max(customers) AS customers
    FROM cold.funnel_daily GROUP BY GROUPING SETS ((1, channel), (1))
), steps AS (
    SELECT month, channel, customers, visit,
           unnest(['visit', 'product_view', 'cart', 'checkout', 'purchase']) AS step,
           unnest([1, 2, 3, 4, 5]) AS step_order,
           unnest([visit, product_view, cart, checkout, purchase]) AS sessions
    FROM m
)
SELECT month, channel, step, step_order, sessions,
       CASE WHEN visit > 0 THEN sessions / visit END,
       CASE WHEN step_order > 1 AND lag(sessions) OVER w > 0 THEN 1 - sessions / lag(sessions) OVER w END,
       customers
FROM steps
WHERE customers >= $k
WINDOW w AS (PARTITION BY month, channel ORDER BY step_order)
ORDER BY month, channel, step_order;

-- name: report_complete_month
-- The report's month: the latest with web or app sessions that ended on
-- or before $day.
SELECT max(month) FROM cold.funnel_dropoff WHERE channel IN ('web', 'app') AND month + INTERVAL 1 MONTH <= CAST($day AS DATE) + INTERVAL 1 DAY;

-- name: report_steps
-- A $month's web and app funnels, step by step, for the report.
SELECT channel, step, sessions, reached_share, drop_off FROM cold.funnel_dropoff
WHERE month = CAST($month AS DATE) AND channel IN ('web', 'app') ORDER BY channel, step_order;
