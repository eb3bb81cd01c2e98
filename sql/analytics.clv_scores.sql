-- analytics.clv_scores: each purchaser's lifetime-value figures from the
-- promoted CLV model (BG/NBD + Gamma-Gamma), as of the day they were scored.
-- Replaced for a scoring day as a whole.
-- grain: one row per (scored_on, customer_key)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.clv_scores (
    scored_on        DATE NOT NULL,
    customer_key     VARCHAR NOT NULL,
    model_id         VARCHAR NOT NULL,
    p_alive          DOUBLE,
    purchases_30d    DOUBLE,   -- expected purchases in the next 30/90/365 days
    purchases_90d    DOUBLE,
    purchases_365d   DOUBLE,
    expected_spend   DOUBLE,   -- expected average order value
    clv              DOUBLE    -- discounted expected revenue over the configured horizon
);

-- name: latest
-- A customer's latest CLV figures (`parcours model explain`).
SELECT scored_on, model_id, p_alive, purchases_30d, purchases_90d, purchases_365d, expected_spend, clv
FROM analytics.clv_scores WHERE customer_key = $customer_key ORDER BY scored_on DESC LIMIT 1;

-- name: count_for_day
-- How many customers have a CLV score of $date: none when no CLV
-- model is promoted (the segments job then skips the families built on it).
SELECT count(*) FROM analytics.clv_scores WHERE scored_on = CAST($date AS DATE);

-- name: clear_day
-- Scoring replaces a day as a whole: the job deletes the CLV scores of
-- $date, then appends the night's.
DELETE FROM analytics.clv_scores WHERE scored_on = CAST($date AS DATE);
