-- cold.return_on_spend: per month, attribution model and channel, the
-- marketing spend beside the conversions and revenue the model credits to
-- the channel (cold.attribution): ROAS (credited revenue / spend), cost per
-- conversion (spend / credited conversions), and the channel's new
-- customers and CAC (spend / new customers first acquired through it,
-- cold.kpis) beside them. Nothing is hidden: spend without any credited
-- conversion stays (conversions 0, roas 0, cost_per_conversion NULL), and
-- so do credited channels without spend (spend 0, roas and
-- cost_per_conversion NULL). Spend of a channel whose credit was rolled
-- into 'other channels' under k goes to that row. Spend is the latest
-- delivery of each (date, channel), as in cold.kpis.
-- grain: one row per (month, model, channel)

-- name: create
CREATE TABLE IF NOT EXISTS cold.return_on_spend (
    month                DATE NOT NULL,
    model                VARCHAR NOT NULL,
    channel              VARCHAR NOT NULL,   -- a channel or 'other channels'
    spend                DOUBLE NOT NULL,
    conversions          DOUBLE NOT NULL,    -- credited by the model
    revenue              DOUBLE NOT NULL,    -- credited by the model
    roas                 DOUBLE,             -- revenue / spend; NULL without spend
    cost_per_conversion  DOUBLE,             -- spend / conversions; NULL without either
    new_customers        BIGINT,             -- first acquired through the channel this month (NULL under k)
    cac                  DOUBLE,             -- spend / new_customers (NULL under k or without spend)
    customers            BIGINT              -- converting customers behind the credit (at least k); NULL for spend alone, which is no one's data
);

-- name: publish
DELETE FROM cold.return_on_spend;
INSERT INTO cold.return_on_spend
WITH spend_month AS (
    -- spend stays a decimal until the end: a sum of doubles over channels
    -- rolled into 'other channels' would depend on the order rows arrive in.
    SELECT CAST(date_trunc('month', date) AS DATE) AS month, channel, sum(spend) AS spend
    FROM (SELECT date, channel, arg_max(spend, _load_date) AS spend
          FROM kind.marketing_spend WHERE date IS NOT NULL AND channel IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
), credited AS (
    SELECT month, model, channel, conversions, value, customers
    FROM cold.attribution WHERE channel <> '(unattributed)'
), spend AS (
    -- every model sees all of a month's spend
    SELECT s.month, m.model,
           CASE WHEN s.channel IN (SELECT channel FROM credited c WHERE c.month = s.month AND c.model = m.model) THEN s.channel
                WHEN s.channel IN (SELECT channel FROM ops.cold_contrib_path_channels p WHERE p.month = s.month)
                 AND 'other channels' IN (SELECT channel FROM credited c WHERE c.month = s.month AND c.model = m.model)
                THEN 'other channels'
                ELSE s.channel END AS channel,
           sum(s.spend) AS spend
    FROM spend_month s CROSS JOIN (SELECT DISTINCT model FROM cold.attribution) m
    GROUP BY ALL
), acquisition AS (
    SELECT period_start AS month, channel,
           CAST(max(value) FILTER (WHERE kpi = 'new_customers') AS BIGINT) AS new_customers,
           max(value) FILTER (WHERE kpi = 'cac') AS cac
    FROM cold.kpis WHERE period = 'month' AND region = 'all' AND kpi IN ('new_customers', 'cac')
    GROUP BY ALL
)
SELECT coalesce(c.month, s.month), coalesce(c.model, s.model), coalesce(c.channel, s.channel),
       CAST(coalesce(s.spend, 0) AS DOUBLE), coalesce(c.conversions, 0), coalesce(c.value, 0),
       coalesce(c.value, 0) / nullif(CAST(s.spend AS DOUBLE), 0), CAST(s.spend AS DOUBLE) / nullif(c.conversions, 0),
       a.new_customers, a.cac, c.customers
FROM credited c
FULL JOIN spend s ON s.month = c.month AND s.model = c.model AND s.channel = c.channel
LEFT JOIN acquisition a ON a.month = coalesce(c.month, s.month) AND a.channel = coalesce(c.channel, s.channel)
ORDER BY 1, 2, 3;
