-- cold.kpis: the headline KPIs, computed from the other cold tables (already
-- k-anonymous) and from counts of new customers (ops.cold_cohorts: one row
-- per customer, so counts are exact) and marketing spend (not personal):
--   day,   per channel and region : revenue, orders, average_basket,
--                                   active_customers (not for channel 'all':
--                                   one customer is active on several channels)
--   day,   web / app / all        : conversion_rate (sessions with a purchase /
--                                   sessions), cart_abandonment_rate (1 -
--                                   purchase sessions / cart sessions)
--   day,   all                    : new_customers
--   month, per channel and region : nps (% promoters 9-10 - % detractors 0-6),
--                                   csat (share of 4-5), ces (mean of 1-7)
--   month, per acquisition channel: new_customers, cac (marketing spend /
--                                   new customers acquired through it)
--   month, all                    : repeat_purchase_rate (buyers of the month
--                                   who first bought in an earlier month / buyers)
-- 'all' sums the published cells: cells suppressed under k are missing from
-- it. customers is a floor: the largest cell behind the row, or the exact
-- count where one is known; rows under k are not published.
-- grain: one row per (period, period_start, channel, region, kpi)

-- name: create
CREATE TABLE IF NOT EXISTS cold.kpis (
    period        VARCHAR NOT NULL,   -- day | month
    period_start  DATE NOT NULL,
    channel       VARCHAR NOT NULL,   -- 'all', a channel, or an acquisition channel (new_customers, cac)
    region        VARCHAR NOT NULL,   -- 'all', a region, or 'other'
    kpi           VARCHAR NOT NULL,
    value         DOUBLE,             -- rates as fractions 0..1; nps -100..100; ces 1..7
    numerator     DOUBLE,             -- what value was computed from (NULL for plain sums)
    denominator   DOUBLE,
    customers     BIGINT NOT NULL
);

-- name: publish
DELETE FROM cold.kpis;
INSERT INTO cold.kpis
WITH act AS (
    SELECT day, coalesce(channel, 'all') AS channel, coalesce(region, 'all') AS region, grouping(channel) AS all_channels,
           sum(orders) AS orders, CAST(sum(revenue) AS DOUBLE) AS revenue,  -- summed as decimals: exact, whatever the order
           max(customers) AS floor, sum(customers) AS customers
    FROM cold.daily_activity
    GROUP BY GROUPING SETS ((day, channel, region), (day, channel), (day, region), (day))
), fun AS (
    SELECT day, coalesce(channel, 'all') AS channel, sum(visits) AS visits, sum(carts) AS carts,
           sum(purchases) AS purchases, max(customers) AS floor
    FROM cold.funnel_daily GROUP BY GROUPING SETS ((day, channel), (day))
), srv AS (
    SELECT month, coalesce(channel, 'all') AS channel, coalesce(region, 'all') AS region, metric,
           sum(responses) AS n,
           coalesce(sum(responses) FILTER (WHERE score >= 9), 0) AS promoters,
           coalesce(sum(responses) FILTER (WHERE score <= 6), 0) AS detractors,
           coalesce(sum(responses) FILTER (WHERE score >= 4), 0) AS satisfied,
           sum(score * responses) AS total, max(customers) AS floor
    FROM cold.survey_scores
    GROUP BY GROUPING SETS ((month, channel, region, metric), (month, channel, metric), (month, region, metric), (month, metric))
), acq AS (
    SELECT cohort_month AS month, coalesce(acquired_via, 'all') AS channel, count(*) AS n
    FROM ops.cold_cohorts WHERE first_day IS NOT NULL
    GROUP BY GROUPING SETS ((cohort_month, acquired_via), (cohort_month))
), acq_day AS (
    SELECT first_day AS day, count(*) AS n FROM ops.cold_cohorts WHERE first_day IS NOT NULL GROUP BY ALL
), spend AS (
    -- a later delivery of a (date, channel) corrects an earlier one; summed
    -- as decimals, so the total does not depend on the order rows arrive in
    SELECT CAST(date_trunc('month', date) AS DATE) AS month, coalesce(channel, 'all') AS channel,
           CAST(sum(spend) AS DOUBLE) AS spend
    FROM (SELECT date, channel, arg_max(spend, _load_date) AS spend
          FROM kind.marketing_spend WHERE date IS NOT NULL AND channel IS NOT NULL GROUP BY ALL)
    GROUP BY GROUPING SETS ((1, channel), (1))
), rep AS (
    SELECT activity_month AS month, sum(customers) FILTER (WHERE months_since >= 1) AS returners,
           sum(customers) AS buyers, max(customers) AS floor
    FROM cold.cohort_retention GROUP BY ALL
), kpi AS (
    SELECT 'day' AS period, day AS period_start, channel, region, 'revenue' AS kpi, revenue AS value,
           NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator, floor AS customers FROM act
    UNION ALL SELECT 'day', day, channel, region, 'orders', orders, NULL, NULL, floor FROM act
    UNION ALL SELECT 'day', day, channel, region, 'average_basket', revenue / orders, revenue, orders, floor FROM act WHERE orders > 0
    -- regions are a customer attribute: a channel's customers add up over regions
    UNION ALL SELECT 'day', day, channel, region, 'active_customers', customers, NULL, NULL, customers FROM act WHERE all_channels = 0
    UNION ALL SELECT 'day', day, channel, 'all', 'conversion_rate', purchases / visits, purchases, visits, floor FROM fun WHERE visits > 0
    UNION ALL SELECT 'day', day, channel, 'all', 'cart_abandonment_rate', greatest(carts - purchases, 0) / carts,
                     greatest(carts - purchases, 0), carts, floor FROM fun WHERE carts > 0
    UNION ALL SELECT 'day', day, 'all', 'all', 'new_customers', n, NULL, NULL, n FROM acq_day
    UNION ALL SELECT 'month', month, channel, region, 'nps', 100.0 * (promoters - detractors) / n, promoters - detractors, n, floor
              FROM srv WHERE metric = 'nps' AND n > 0
    UNION ALL SELECT 'month', month, channel, region, 'csat', satisfied / n, satisfied, n, floor FROM srv WHERE metric = 'csat' AND n > 0
    UNION ALL SELECT 'month', month, channel, region, 'ces', total / n, total, n, floor FROM srv WHERE metric = 'ces' AND n > 0
    UNION ALL SELECT 'month', month, channel, 'all', 'new_customers', n, NULL, NULL, n FROM acq
    UNION ALL SELECT 'month', a.month, a.channel, 'all', 'cac', s.spend / a.n, s.spend, a.n, a.n
              FROM acq a JOIN spend s USING (month, channel)
    UNION ALL SELECT 'month', month, 'all', 'all', 'repeat_purchase_rate', returners / buyers, returners, buyers, floor
              FROM rep WHERE buyers > 0
)
SELECT * FROM kpi WHERE customers >= $k
ORDER BY period, period_start, kpi, channel, region;

-- name: published_rows
-- Rows one of the job's cold tables holds once published ({{table}},
-- quoted by the job), for the run's counts.
SELECT count(*) FROM {{table}};

-- name: report_points
-- The report's KPIs ($kpis, a list of names) of one grain ($period: day
-- or month) for channel and region 'all', from $from to $to, in date
-- order per KPI.
SELECT period_start, kpi, value, numerator, denominator FROM cold.kpis
WHERE period = $period AND channel = 'all' AND region = 'all'
  AND period_start BETWEEN CAST($from AS DATE) AND CAST($to AS DATE) AND kpi IN (SELECT unnest(CAST($kpis AS VARCHAR[])))
ORDER BY kpi, period_start;
