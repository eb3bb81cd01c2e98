-- merge.gather: what the gather jobs of `parcours merge` (jobs/merge)
-- read from the customer shards, attached to the merged warehouse as
-- {{shard}} (shard0, shard1, ..., quoted by the job). A gather empties a
-- table here (clear), then copies each shard's rows into it, one shard
-- after the other in one transaction: a full replace, so a rerun gathers
-- the same rows again. The finish job empties the per-customer copies
-- (merge.finish.sql drop_copies).

-- name: gate
-- Has the shard reached the stage's gate job ($job) for the date: is it
-- waiting there or past it?
SELECT count(*) FROM {{shard}}.ops.job_runs
WHERE job = $job AND logical_date = $date AND status IN ($waiting, $succeeded);

-- name: clear
-- Empties {{target}} before the shards' rows are copied into it.
DELETE FROM {{target}};

-- name: copy
-- Copies every row of a shard's {{source}} into {{target}} (same columns).
INSERT INTO {{target}} SELECT * FROM {{shard}}.{{source}};

-- name: copy_churn_features
-- A shard's customer features at the churn training and evaluation
-- cut-offs, with the training sample ({{sample}}: the features job's
-- QUALIFY clause, empty without a sample) kept per shard, which is exact.
INSERT INTO analytics.customer_features
SELECT * FROM {{shard}}.analytics.customer_features
WHERE cutoff IN (CAST($train_cutoff AS DATE), CAST($eval_cutoff AS DATE))
{{sample}};

-- name: copy_features_at
-- A shard's customer features at the scoring cut-off $cutoff (the day after).
INSERT INTO analytics.customer_features
SELECT * FROM {{shard}}.analytics.customer_features WHERE cutoff = CAST($cutoff AS DATE);

-- name: copy_churn_scores
-- A shard's churn scores of the day.
INSERT INTO analytics.churn_scores
SELECT * FROM {{shard}}.analytics.churn_scores WHERE scored_on = CAST($day AS DATE);

-- name: copy_clv_scores
-- A shard's CLV scores of the day.
INSERT INTO analytics.clv_scores
SELECT * FROM {{shard}}.analytics.clv_scores WHERE scored_on = CAST($day AS DATE);

-- name: previous_members_day
-- The last day before $day a shard computed segment members (NULL: none),
-- the previous membership the segments compare with.
SELECT max(computed_on) FROM {{shard}}.analytics.segment_members WHERE computed_on < CAST($day AS DATE);

-- name: copy_previous_members
-- A shard's segment members of the previous day $prev (none when NULL).
INSERT INTO analytics.segment_members
SELECT * FROM {{shard}}.analytics.segment_members WHERE computed_on = CAST($prev AS DATE);
