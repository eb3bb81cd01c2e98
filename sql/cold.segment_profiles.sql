-- cold.segment_profiles: what each segment of a computed day looks like,
-- without saying who is in it: its size, the mean of every number its
-- members' details hold (the features the family segments on) and a
-- description in words. Built from analytics.segment_members of $date. A
-- segment with fewer than k members is not published (counted in
-- cold.suppressed_cells). A run replaces its computed_on day as a whole.
-- grain: one row per (computed_on, family, segment)

-- name: create
CREATE TABLE IF NOT EXISTS cold.segment_profiles (
    computed_on  DATE NOT NULL,
    family       VARCHAR NOT NULL,
    segment      VARCHAR NOT NULL,
    customers    BIGINT NOT NULL,
    description  VARCHAR,
    profile      JSON        -- {"feature": mean over the members, ...}, keys in order, means rounded to 4 decimals
);

-- name: profiles
-- Staged before the cold transaction (it reads hot, writes temp only).
-- Non-numeric detail values (risk_band) and all-missing features are left
-- out of the profile; missing values do not count in a mean.
CREATE OR REPLACE TEMP TABLE seg_profiles AS
WITH m AS (
    SELECT family, segment, detail FROM analytics.segment_members WHERE computed_on = CAST($date AS DATE)
), sizes AS (
    SELECT family, segment, count(*) AS customers FROM m GROUP BY ALL
), kv AS (
    SELECT family, segment, unnest(json_keys(detail)) AS key, detail FROM m
), means AS (
    SELECT family, segment, key, avg(TRY_CAST(detail->>key AS DOUBLE)) AS mean FROM kv GROUP BY ALL
), profiles AS (
    SELECT family, segment, to_json(map_from_entries(list((key, round(mean, 4)) ORDER BY key))) AS profile
    FROM means WHERE mean IS NOT NULL GROUP BY ALL
)
SELECT s.family, s.segment, s.customers, w.description, p.profile
FROM sizes s
LEFT JOIN profiles p USING (family, segment)
LEFT JOIN seg_words w USING (family, segment);

-- name: publish
DELETE FROM cold.segment_profiles WHERE computed_on = CAST($date AS DATE);
INSERT INTO cold.segment_profiles
SELECT CAST($date AS DATE), family, segment, customers, description, profile
FROM seg_profiles WHERE customers >= $k
ORDER BY family, segment;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'segment_profiles';
INSERT INTO cold.suppressed_cells
SELECT 'segment_profiles', $k, (SELECT count(*) FROM seg_profiles WHERE customers >= $k), 0,
       (SELECT count(*) FROM seg_profiles WHERE customers < $k), CAST($date AS DATE);
