-- merge.finish: what the finish jobs of `parcours merge` (jobs/merge) send
-- back to the customer shards, attached to the merged warehouse as
-- {{shard}} (shard0, shard1, ..., quoted by the job), and the per-customer
-- copies they delete here once a stage is done. Also the moves of vault
-- rows whose customer changed shard (rehome, models stage).

-- name: send_models
-- The registry is replaced whole: every shard scores with the same
-- promoted models.
DELETE FROM {{shard}}.ops.models;
INSERT INTO {{shard}}.ops.models SELECT * FROM ops.models;

-- name: send_members
-- The day's segment members of the shard's customers, by the test in_shard
-- makes on a shard (shard_of), so every member goes to exactly one shard.
DELETE FROM {{shard}}.analytics.segment_members WHERE computed_on = CAST($day AS DATE);
INSERT INTO {{shard}}.analytics.segment_members
SELECT * FROM analytics.segment_members
WHERE computed_on = CAST($day AS DATE)
  AND (shard_of(customer_key, NULL, CAST($shard_count AS UBIGINT)) = CAST($shard_index AS UBIGINT));

-- name: open_gate
-- Records the shard's gate job as succeeded for the day, at its next
-- attempt: the shard's next run goes past the gate.
INSERT INTO {{shard}}.ops.job_runs (run_id, job, logical_date, attempt, status, started_at, ended_at, rows_in, rows_out, host, pid)
SELECT $run_id, $job, CAST($day AS DATE), coalesce(max(attempt), 0) + 1, 'succeeded', now(), now(), 0, 0, $host, $pid
FROM {{shard}}.ops.job_runs WHERE job = $job AND logical_date = CAST($day AS DATE);

-- name: members_sent
-- How many segment members of the day went to the shards.
SELECT count(*) FROM analytics.segment_members WHERE computed_on = $date;

-- name: drop_copies
-- The merged warehouse's tables that hold customer keys only while a
-- stage runs, emptied at its end.
DELETE FROM analytics.orders;
DELETE FROM analytics.customer_features;
DELETE FROM analytics.churn_scores;
DELETE FROM analytics.clv_scores;
DELETE FROM analytics.segment_members;
DELETE FROM consent.intervals;
DELETE FROM ops.cold_ledger;
DELETE FROM ops.cold_cohorts;
DELETE FROM ops.name_tokens;

-- name: misplaced_vault_rows
-- The vault rows of a shard whose customer is not (any more) its own, by
-- subject: shard_of as in send_members.
SELECT subject_token, customer_key FROM {{shard}}.vault.pii
WHERE customer_key IS NOT NULL AND NOT (shard_of(customer_key, NULL, CAST($shard_count AS UBIGINT)) = CAST($shard_index AS UBIGINT))
ORDER BY subject_token;

-- name: move_vault_row
-- Moves a subject's vault row from shard {{from}} to shard {{to}}. The
-- owner keeps its own row if it sealed a newer version.
DELETE FROM {{to}}.vault.pii WHERE subject_token = $subject
  AND updated_at <= (SELECT updated_at FROM {{from}}.vault.pii WHERE subject_token = $subject);
INSERT INTO {{to}}.vault.pii SELECT * FROM {{from}}.vault.pii WHERE subject_token = $subject
  AND NOT EXISTS (SELECT 1 FROM {{to}}.vault.pii WHERE subject_token = $subject);
DELETE FROM {{from}}.vault.pii WHERE subject_token = $subject;
