-- cold.survey_scores: distributions of NPS (0-10) and CSAT (1-5) answers
-- from surveys, and CES (1-7) from call-centre contacts, per month,
-- channel, customer region and 10-year age band. Under the k rule a cell
-- first loses its age band (age_band 'other'), then its region too
-- (region 'other'); what is still under k is suppressed. Region and age
-- band are customer attributes, so rolled-up customers add up exactly.
-- grain: one row per (month, channel, region, age_band, metric, score)

-- name: create
CREATE TABLE IF NOT EXISTS ops.cold_contrib_survey_scores (
    batch      VARCHAR NOT NULL,
    month      DATE NOT NULL,
    channel    VARCHAR NOT NULL,
    region     VARCHAR NOT NULL,
    age_band   VARCHAR NOT NULL,
    metric     VARCHAR NOT NULL,
    score      INTEGER NOT NULL,
    customers  BIGINT NOT NULL,
    responses  BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS cold.survey_scores (
    month      DATE NOT NULL,
    channel    VARCHAR NOT NULL,   -- web | app | store | call_center | email | unknown
    region     VARCHAR NOT NULL,   -- or 'other'
    age_band   VARCHAR NOT NULL,   -- '30-39', 'unknown', or 'other'
    metric     VARCHAR NOT NULL,   -- nps | csat | ces
    score      INTEGER NOT NULL,
    customers  BIGINT NOT NULL,
    responses  BIGINT NOT NULL
);

-- name: contribute
-- temp: builds answers; reads batches
CREATE OR REPLACE TEMP TABLE answers AS
WITH s AS (
    SELECT f._run_id AS batch, f._customer_key AS member, f.event_date AS day, coalesce(f.channel, 'unknown') AS channel,
           'nps' AS metric, f.nps AS score
    FROM keyed('kind.surveys') f
    WHERE NOT f._suppressed AND f._mine AND f.nps IS NOT NULL
    UNION ALL
    SELECT f._run_id, f._customer_key, f.event_date, coalesce(f.channel, 'unknown'), 'csat', f.csat
    FROM keyed('kind.surveys') f
    WHERE NOT f._suppressed AND f._mine AND f.csat IS NOT NULL
    UNION ALL
    SELECT f._run_id, f._customer_key, f.event_date, 'call_center', 'ces', f.ces
    FROM keyed('kind.contacts') f
    WHERE NOT f._suppressed AND f._mine AND f.ces IS NOT NULL
)
SELECT s.batch, s.member, CAST(date_trunc('month', s.day) AS DATE) AS month, s.channel,
       coalesce(ca.region, 'unknown') AS region, age_band(ca.birth_year, s.day) AS age_band, s.metric, s.score
FROM s LEFT JOIN analytics.customer_attrs ca ON ca.customer_key = s.member;
DELETE FROM ops.cold_contrib_survey_scores WHERE batch IN (SELECT batch FROM batches);
DELETE FROM ops.cold_ledger WHERE cold_table = 'survey_scores' AND batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_ledger
SELECT 'survey_scores', a.cell, a.member, a.window_end, a.batch
FROM (SELECT concat_ws('|', month, channel, region, age_band, metric, score) AS cell, member,
             max(last_day(month)) AS window_end, min(batch) AS batch
      FROM answers WHERE member IS NOT NULL GROUP BY 1, 2) a
WHERE NOT EXISTS (SELECT 1 FROM ops.cold_ledger l
                  WHERE l.cold_table = 'survey_scores' AND l.cell = a.cell AND l.member = a.member);
INSERT INTO ops.cold_contrib_survey_scores
WITH fresh AS (
    SELECT batch, cell, count(*) AS customers FROM ops.cold_ledger
    WHERE cold_table = 'survey_scores' AND batch IN (SELECT batch FROM batches) GROUP BY ALL
), agg AS (
    SELECT batch, month, channel, region, age_band, metric, score,
           concat_ws('|', month, channel, region, age_band, metric, score) AS cell, count(*) AS responses
    FROM answers GROUP BY ALL
)
SELECT a.batch, a.month, a.channel, a.region, a.age_band, a.metric, a.score, coalesce(f.customers, 0), a.responses
FROM agg a LEFT JOIN fresh f USING (batch, cell);

-- name: publish
-- temp: builds cells, no_age, no_region
CREATE OR REPLACE TEMP TABLE cells AS
SELECT month, channel, region, age_band, metric, score, sum(customers) AS customers, sum(responses) AS responses
FROM ops.cold_contrib_survey_scores GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE no_age AS
SELECT month, channel, region, 'other' AS age_band, metric, score, sum(customers) AS customers,
       sum(responses) AS responses, count(*) AS cells
FROM cells WHERE customers < $k GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE no_region AS
SELECT month, channel, 'other' AS region, 'other' AS age_band, metric, score, sum(customers) AS customers,
       sum(responses) AS responses, sum(cells) AS cells
FROM no_age WHERE customers < $k GROUP BY ALL;
DELETE FROM cold.survey_scores;
INSERT INTO cold.survey_scores
SELECT * FROM (
    SELECT month, channel, region, age_band, metric, score, customers, responses FROM cells WHERE customers >= $k
    UNION ALL
    SELECT month, channel, region, age_band, metric, score, customers, responses FROM no_age WHERE customers >= $k
    UNION ALL
    SELECT month, channel, region, age_band, metric, score, customers, responses FROM no_region WHERE customers >= $k
) ORDER BY month, channel, metric, score, region, age_band;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'survey_scores';
INSERT INTO cold.suppressed_cells
SELECT 'survey_scores', $k, (SELECT count(*) FROM cold.survey_scores),
       coalesce((SELECT sum(cells) FROM no_age WHERE customers >= $k), 0)
         + coalesce((SELECT sum(cells) FROM no_region WHERE customers >= $k), 0),
       coalesce((SELECT sum(cells) FROM no_region WHERE customers < $k), 0), CAST($date AS DATE);
