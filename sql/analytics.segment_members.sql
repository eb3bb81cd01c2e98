-- analytics.segment_members: who is in which segment on a computed day, per
-- segment family:
--   rfm         recency / frequency / monetary quintile scores and the R x FM
--               segment map (champions ... lost)
--   value_risk  CLV x churn probability quadrants
--   propensity  expected purchases in the next 30 days (likely / unlikely)
--   micro       behavioural k-means clusters, micro_<n>: an id follows its
--               cluster from day to day (matched on ops.segment_centroids),
--               a new cluster gets a number never used before
-- Only customers holding an analytics consent valid at $now, the end of the
-- run's business day (valid_from <= $now < valid_to), are members, whatever
-- older scores say. A run replaces its computed_on day as a whole; earlier
-- days stay, so segments_diff can say who entered and who left.
-- grain: one row per (computed_on, family, customer_key)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.segment_members (
    computed_on   DATE NOT NULL,
    family        VARCHAR NOT NULL,   -- rfm | value_risk | propensity | micro
    segment       VARCHAR NOT NULL,
    customer_key  VARCHAR NOT NULL,
    score         DOUBLE,             -- rfm: the cell R*100 + F*10 + M, value_risk: clv x churn probability,
                                      -- propensity: purchases_30d, micro: distance to the cluster centre (z units)
    detail        JSON                -- the numbers behind the membership
);

-- name: scope
-- The customers segments may hold, and the job's staging tables. Details
-- are staged as text: a Go string appended to a JSON column would be
-- stored as a JSON string, not as the object it spells.
-- Who objects (to profiling or to marketing) is in no segment.
-- temp: builds seg_consented, seg_rfm_map, seg_rows, seg_words
CREATE OR REPLACE TEMP TABLE seg_consented AS
SELECT DISTINCT customer_key FROM consent.intervals
WHERE purpose = 'analytics' AND valid_from <= CAST($now AS TIMESTAMPTZ)
  AND (valid_to IS NULL OR CAST($now AS TIMESTAMPTZ) < valid_to)
  AND customer_key NOT IN (SELECT customer_key FROM consent.objecting);
CREATE OR REPLACE TEMP TABLE seg_rows (
    family        VARCHAR NOT NULL,
    segment       VARCHAR NOT NULL,
    customer_key  VARCHAR NOT NULL,
    score         DOUBLE,
    detail        VARCHAR
);
-- The R x FM segment map, filled by the job from its one rule table.
CREATE OR REPLACE TEMP TABLE seg_rfm_map (
    r        INTEGER NOT NULL,
    fm       INTEGER NOT NULL,
    segment  VARCHAR NOT NULL
);
-- Each segment's label and description in words, filled by the job.
CREATE OR REPLACE TEMP TABLE seg_words (
    family       VARCHAR NOT NULL,
    segment      VARCHAR NOT NULL,
    description  VARCHAR NOT NULL,
    label        VARCHAR NOT NULL
);

-- name: consented_count
-- How many customers the TEMP table seg_consented (scope) holds: the most
-- any family can hold.
-- temp: reads seg_consented
SELECT count(*) FROM seg_consented;

-- name: rfm_map_insert
-- Fills the TEMP table seg_rfm_map (scope) from the job's rule table:
-- the rows placeholder stands for their value tuples (warehouse.InsertRows).
-- temp: reads seg_rfm_map
INSERT INTO seg_rfm_map (r, fm, segment) VALUES {{rows}};

-- name: words_insert
-- Fills the TEMP table seg_words (scope) with each segment's description
-- and label: the rows placeholder stands for their value tuples.
-- temp: reads seg_words
INSERT INTO seg_words (family, segment, description, label) VALUES {{rows}};

-- name: rfm
-- Every consented customer with an order on or before $date. Measures as
-- customer_features at the scoring cut-off ($date + 1): recency_days =
-- cut-off - last order day (1 = bought on $date), frequency and monetary
-- over the 365 days before the cut-off (0 when none). Quintile score =
-- 1 + floor(5 * (RANK() - 1) / n), ranking from worst to best: equal
-- values share the rank of the first of them, hence the same score, and
-- without ties this is NTILE(5). FM = round half up of (F + M) / 2.
-- temp: reads seg_consented, seg_rfm_map, seg_rows
INSERT INTO seg_rows
WITH o AS (
    SELECT customer_key,
           CAST($date AS DATE) + 1 - max(order_date) AS recency_days,
           count(*) FILTER (WHERE order_date > CAST($date AS DATE) - 365) AS frequency_365d,
           CAST(coalesce(sum(amount) FILTER (WHERE order_date > CAST($date AS DATE) - 365), 0) AS DOUBLE) AS monetary_365d
    FROM analytics.orders
    WHERE order_date <= CAST($date AS DATE)
      AND customer_key IN (SELECT customer_key FROM seg_consented)
    GROUP BY customer_key
), scored AS (
    SELECT *,
           CAST(1 + floor(5 * (rank() OVER (ORDER BY recency_days DESC) - 1) / count(*) OVER ()) AS INTEGER) AS r,
           CAST(1 + floor(5 * (rank() OVER (ORDER BY frequency_365d) - 1) / count(*) OVER ()) AS INTEGER) AS f,
           CAST(1 + floor(5 * (rank() OVER (ORDER BY monetary_365d) - 1) / count(*) OVER ()) AS INTEGER) AS m
    FROM o
), cells AS (
    SELECT *, (f + m + 1) // 2 AS fm FROM scored
)
SELECT 'rfm', map.segment, c.customer_key, 100 * c.r + 10 * c.f + c.m,
       CAST(json_object('r', c.r, 'f', c.f, 'm', c.m, 'fm', c.fm, 'recency_days', c.recency_days,
                        'frequency_365d', c.frequency_365d, 'monetary_365d', c.monetary_365d) AS VARCHAR)
FROM cells c JOIN seg_rfm_map map ON map.r = c.r AND map.fm = c.fm;

-- name: value_risk
-- Consented customers with both scores of $date. High value: clv at or
-- above the $value_quantile quantile (interpolated; 0.5 = the median) of
-- these customers' clv. High risk: churn probability at or above
-- $risk_high (config models.risk_high, where the 'high' risk band starts).
-- score = clv x probability, the value at risk.
-- temp: reads seg_consented, seg_rows
INSERT INTO seg_rows
WITH s AS (
    SELECT v.customer_key, v.clv, c.probability, c.risk_band
    FROM analytics.clv_scores v
    JOIN analytics.churn_scores c ON c.customer_key = v.customer_key AND c.scored_on = v.scored_on
    WHERE v.scored_on = CAST($date AS DATE) AND v.clv IS NOT NULL
      AND v.customer_key IN (SELECT customer_key FROM seg_consented)
), t AS (
    SELECT quantile_cont(clv, CAST($value_quantile AS DOUBLE)) AS clv_threshold FROM s
)
SELECT 'value_risk',
       CASE WHEN s.clv >= t.clv_threshold THEN 'high_value' ELSE 'low_value' END || '_' ||
       CASE WHEN s.probability >= CAST($risk_high AS DOUBLE) THEN 'high_risk' ELSE 'low_risk' END,
       s.customer_key, s.clv * s.probability,
       CAST(json_object('clv', s.clv, 'churn_probability', s.probability, 'risk_band', s.risk_band,
                        'clv_threshold', t.clv_threshold, 'risk_threshold', CAST($risk_high AS DOUBLE)) AS VARCHAR)
FROM s CROSS JOIN t;

-- name: propensity
-- Consented customers with a CLV score of $date: likely to buy when the
-- model expects at least $min_purchases purchases in the next 30 days.
-- temp: reads seg_consented, seg_rows
INSERT INTO seg_rows
SELECT 'propensity',
       CASE WHEN purchases_30d >= CAST($min_purchases AS DOUBLE) THEN 'likely_to_buy_30d' ELSE 'unlikely_to_buy_30d' END,
       customer_key, purchases_30d,
       CAST(json_object('purchases_30d', purchases_30d, 'p_alive', p_alive) AS VARCHAR)
FROM analytics.clv_scores
WHERE scored_on = CAST($date AS DATE) AND purchases_30d IS NOT NULL
  AND customer_key IN (SELECT customer_key FROM seg_consented);

-- name: micro_features
-- The behavioural features k-means clusters on, for the consented
-- customers at the scoring cut-off ($cutoff = $date + 1, which the
-- features job wrote), read in Go as Arrow. NULL stays NULL (rates
-- without a denominator): the job imputes it. The job checks these
-- columns against its feature list, so edit both together.
-- temp: reads seg_consented
SELECT f.customer_key,
       CAST(f.recency_days AS DOUBLE)        AS recency_days,
       CAST(f.frequency_365d AS DOUBLE)      AS frequency_365d,
       CAST(f.monetary_365d AS DOUBLE)       AS monetary_365d,
       CAST(f.avg_basket AS DOUBLE)          AS avg_basket,
       CAST(f.share_web AS DOUBLE)           AS share_web,
       CAST(f.share_app AS DOUBLE)           AS share_app,
       CAST(f.share_store AS DOUBLE)         AS share_store,
       CAST(f.sessions_90d AS DOUBLE)        AS sessions_90d,
       CAST(f.email_open_rate_90d AS DOUBLE) AS email_open_rate_90d
FROM analytics.customer_features f
WHERE f.cutoff = CAST($cutoff AS DATE)
  AND f.customer_key IN (SELECT customer_key FROM seg_consented)
ORDER BY f.customer_key;

-- name: write
-- Replace the day: run in one transaction, it leaves either the old day
-- or the new one.
-- temp: reads seg_rows
DELETE FROM analytics.segment_members WHERE computed_on = CAST($date AS DATE);
INSERT INTO analytics.segment_members
SELECT CAST($date AS DATE), family, segment, customer_key, score, CAST(detail AS JSON)
FROM seg_rows
ORDER BY family, segment, customer_key;

-- name: segments_diff
-- Who entered and who left each segment between $date and the previous
-- computed day (NULL previous_on: no earlier day, everyone entered). A
-- segment empty on one of the two days still has its row. Moving between
-- two segments of a family counts as leaving one and entering the other.
WITH prev AS (
    SELECT max(computed_on) AS d FROM analytics.segment_members WHERE computed_on < CAST($date AS DATE)
), cur AS (
    SELECT family, segment, customer_key FROM analytics.segment_members WHERE computed_on = CAST($date AS DATE)
), old AS (
    SELECT family, segment, customer_key FROM analytics.segment_members WHERE computed_on = (SELECT d FROM prev)
), moves AS (
    SELECT coalesce(c.family, o.family) AS family, coalesce(c.segment, o.segment) AS segment,
           c.customer_key IS NOT NULL AS now_in, o.customer_key IS NOT NULL AS was_in
    FROM cur c
    FULL OUTER JOIN old o ON c.family = o.family AND c.segment = o.segment AND c.customer_key = o.customer_key
)
SELECT family, segment, (SELECT d FROM prev) AS previous_on,
       count(*) FILTER (WHERE now_in) AS members,
       count(*) FILTER (WHERE was_in) AS previous_members,
       count(*) FILTER (WHERE now_in AND NOT was_in) AS entered,
       count(*) FILTER (WHERE was_in AND NOT now_in) AS "left"
FROM moves
GROUP BY family, segment
ORDER BY family, segment;
