-- cold.churn_risk_mix: how the scored customers split into churn risk
-- bands each day they were scored (analytics.churn_scores: low | medium |
-- high), so the report can say how the mix moved since yesterday and last
-- week without reading any customer's score. A band under k customers is
-- not published (counted in cold.suppressed_cells); share is of every
-- customer scored that day, published or not.
-- grain: one row per (scored_on, risk_band)

-- name: create
CREATE TABLE IF NOT EXISTS cold.churn_risk_mix (
    scored_on         DATE NOT NULL,
    risk_band         VARCHAR NOT NULL,   -- low | medium | high
    customers         BIGINT NOT NULL,
    share             DOUBLE NOT NULL,    -- of the customers scored that day
    mean_probability  DOUBLE NOT NULL     -- mean churn probability in the band
);

-- name: publish
-- Today's scores only: earlier days' rows stay as they were published.
DELETE FROM cold.churn_risk_mix WHERE scored_on = CAST($date AS DATE);
INSERT INTO cold.churn_risk_mix
WITH bands AS (
    -- summed as decimals: the mean does not depend on the order scores
    -- arrive in (a merge of shards reads them in another order)
    SELECT risk_band, count(*) AS customers,
           CAST(sum(CAST(probability AS DECIMAL(38, 20))) / count(*) AS DOUBLE) AS mean_probability
    FROM analytics.churn_scores WHERE scored_on = CAST($date AS DATE)
    GROUP BY risk_band
)
SELECT CAST($date AS DATE), risk_band, customers, customers / sum(customers) OVER (), mean_probability
FROM bands
QUALIFY customers >= $k
ORDER BY risk_band;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'churn_risk_mix';
INSERT INTO cold.suppressed_cells
SELECT 'churn_risk_mix', $k,
       (SELECT count(*) FROM cold.churn_risk_mix),
       0,
       (SELECT count(DISTINCT risk_band) FROM analytics.churn_scores WHERE scored_on = CAST($date AS DATE))
         - (SELECT count(*) FROM cold.churn_risk_mix WHERE scored_on = CAST($date AS DATE)),
       CAST($date AS DATE);
