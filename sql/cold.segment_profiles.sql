-- cold.segment_profiles: what each segment of a computed day looks like,
-- without saying who is in it: its size, the mean of every number its
-- members' details hold (the features the family segments on), a label
-- and a description in words. Built from analytics.segment_members of
-- $date. A segment with fewer than k members is not published (counted in
-- cold.suppressed_cells). A run replaces its computed_on day as a whole.
-- segment is the id config and triggers use (rfm:champions, micro:micro_3);
-- label is for people ("Champions", "Frequent app buyers, high basket"):
-- fixed for the rule-based families; for micro, computed nightly and kept
-- by a cluster that keeps its id while it still describes it (see
-- ops.segment_centroids).
-- Profile keys and units (segments.FeatureLabel gives label and unit):
--   rfm         r, f, m, fm           scores 1-5 (5 = best; fm = (f + m) / 2 rounded up)
--               recency_days          days since the last purchase (1 = bought on the day)
--               frequency_365d        purchases in the last 365 days
--               monetary_365d         spend in the last 365 days, currency
--   value_risk  clv, clv_threshold    customer lifetime value, currency
--               churn_probability, risk_threshold   probability 0-1
--   propensity  purchases_30d         expected purchases in the next 30 days
--               p_alive               probability 0-1 the customer is still active
--   micro       recency_days, frequency_365d, monetary_365d as rfm;
--               avg_basket            currency per order
--               share_web, share_app, share_store   share 0-1 of purchases
--               sessions_90d          web sessions in the last 90 days
--               email_open_rate_90d   share 0-1 of emails opened, last 90 days
-- grain: one row per (computed_on, family, segment)

-- name: create
CREATE TABLE IF NOT EXISTS cold.segment_profiles (
    computed_on  DATE NOT NULL,
    family       VARCHAR NOT NULL,
    segment      VARCHAR NOT NULL,
    customers    BIGINT NOT NULL,
    description  VARCHAR,
    profile      JSON,       -- {"feature": mean over the members, ...}, keys in order, means rounded to 4 decimals
    label        VARCHAR     -- the segment's name for people, unique within (computed_on, family)
);

-- name: profiles
-- Staged before the cold transaction (it reads hot, writes temp only).
-- Non-numeric detail values (risk_band) and all-missing features are left
-- out of the profile; missing values do not count in a mean.
-- temp: builds seg_profiles; reads seg_words
CREATE OR REPLACE TEMP TABLE seg_profiles AS
WITH m AS (
    SELECT family, segment, detail FROM analytics.segment_members WHERE computed_on = CAST($date AS DATE)
), sizes AS (
    SELECT family, segment, count(*) AS customers FROM m GROUP BY ALL
), kv AS (
    -- each detail's keys and values as text, both in the object's order
    -- (a cast of every detail to a MAP took twice as long)
    SELECT family, segment, unnest(json_keys(detail)) AS key, unnest(json_extract_string(detail, '$.*')) AS value
    FROM m
), means AS (
    SELECT family, segment, key, avg(TRY_CAST(value AS DOUBLE)) AS mean FROM kv GROUP BY ALL
), profiles AS (
    SELECT family, segment, to_json(map_from_entries(list((key, round(mean, 4)) ORDER BY key))) AS profile
    FROM means WHERE mean IS NOT NULL GROUP BY ALL
)
SELECT s.family, s.segment, s.customers, w.description, p.profile, w.label
FROM sizes s
LEFT JOIN profiles p USING (family, segment)
LEFT JOIN seg_words w USING (family, segment);

-- name: publish
-- temp: reads seg_profiles
DELETE FROM cold.segment_profiles WHERE computed_on = CAST($date AS DATE);
INSERT INTO cold.segment_profiles
SELECT CAST($date AS DATE), family, segment, customers, description, profile, label
FROM seg_profiles WHERE customers >= $k
ORDER BY family, segment;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'segment_profiles';
INSERT INTO cold.suppressed_cells
SELECT 'segment_profiles', $k, (SELECT count(*) FROM seg_profiles WHERE customers >= $k), 0,
       (SELECT count(*) FROM seg_profiles WHERE customers < $k), CAST($date AS DATE);

-- name: published_counts
-- The profiles of the TEMP table seg_profiles (profiles) published, with
-- at least $k members, and those held back.
-- temp: reads seg_profiles
SELECT count(*) FILTER (WHERE customers >= $k), count(*) FILTER (WHERE customers < $k)
FROM seg_profiles;
