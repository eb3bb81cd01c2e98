-- parcours-bench's history (cmd/parcours-bench --history): the warehouse
-- of a catch-up night made to look, as far as the per-customer derived
-- tables go, like one that has run $nights nights up to $date. The rows
-- of night $date (features at cut-off $date + 1, scores, segment
-- membership) are copied to the $nights - 1 nights before it, each night
-- in the order its job writes it. Purge and the privacy audit scan these
-- tables whole, so a steady night costs more with every night kept
-- (privacy.history_days); the models' older training cut-offs are left
-- as they are.

-- name: copy
DELETE FROM analytics.customer_features
WHERE cutoff > CAST($date AS DATE) + 1 - CAST($nights AS INTEGER) AND cutoff <= CAST($date AS DATE);
DELETE FROM analytics.churn_scores
WHERE scored_on > CAST($date AS DATE) - CAST($nights AS INTEGER) AND scored_on < CAST($date AS DATE);
DELETE FROM analytics.clv_scores
WHERE scored_on > CAST($date AS DATE) - CAST($nights AS INTEGER) AND scored_on < CAST($date AS DATE);
DELETE FROM analytics.segment_members
WHERE computed_on > CAST($date AS DATE) - CAST($nights AS INTEGER) AND computed_on < CAST($date AS DATE);
INSERT INTO analytics.customer_features
SELECT f.* REPLACE (f.cutoff - CAST(n.i AS INTEGER) AS cutoff)
FROM analytics.customer_features f, range(1, CAST($nights AS BIGINT)) n(i)
WHERE f.cutoff = CAST($date AS DATE) + 1
ORDER BY n.i DESC, f.customer_key;
INSERT INTO analytics.churn_scores
SELECT s.* REPLACE (s.scored_on - CAST(n.i AS INTEGER) AS scored_on)
FROM analytics.churn_scores s, range(1, CAST($nights AS BIGINT)) n(i)
WHERE s.scored_on = CAST($date AS DATE)
ORDER BY n.i DESC, s.customer_key;
INSERT INTO analytics.clv_scores
SELECT s.* REPLACE (s.scored_on - CAST(n.i AS INTEGER) AS scored_on)
FROM analytics.clv_scores s, range(1, CAST($nights AS BIGINT)) n(i)
WHERE s.scored_on = CAST($date AS DATE)
ORDER BY n.i DESC, s.customer_key;
INSERT INTO analytics.segment_members
SELECT m.* REPLACE (m.computed_on - CAST(n.i AS INTEGER) AS computed_on)
FROM analytics.segment_members m, range(1, CAST($nights AS BIGINT)) n(i)
WHERE m.computed_on = CAST($date AS DATE)
ORDER BY n.i DESC, m.family, m.segment, m.customer_key;
CHECKPOINT;

-- name: count
-- The derived rows the steady nights start from.
SELECT (SELECT count(*) FROM analytics.customer_features) + (SELECT count(*) FROM analytics.churn_scores)
     + (SELECT count(*) FROM analytics.clv_scores) + (SELECT count(*) FROM analytics.segment_members);
