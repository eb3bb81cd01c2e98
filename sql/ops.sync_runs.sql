-- ops.sync_runs: the sync log, per destination and activation run (plan or
-- apply): members planned, sent, accepted, rejected, requests retried,
-- members dead-lettered, members excluded by the gates, size alerts, the
-- duration and the error that stopped it. `parcours status` shows it.
-- grain: one row per (run_id, phase, destination)

-- name: create
CREATE TABLE IF NOT EXISTS ops.sync_runs (
    run_id        VARCHAR NOT NULL,
    plan_date     DATE NOT NULL,
    phase         VARCHAR NOT NULL,   -- plan | apply
    destination   VARCHAR NOT NULL,
    planned       BIGINT NOT NULL DEFAULT 0,
    sent          BIGINT NOT NULL DEFAULT 0,
    accepted      BIGINT NOT NULL DEFAULT 0,
    rejected      BIGINT NOT NULL DEFAULT 0,
    retried       BIGINT NOT NULL DEFAULT 0,
    dead_lettered BIGINT NOT NULL DEFAULT 0,
    excluded      BIGINT NOT NULL DEFAULT 0,
    size_alerts   INTEGER NOT NULL DEFAULT 0,
    duration_s    DOUBLE NOT NULL DEFAULT 0,
    error         VARCHAR,
    finished_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- name: record_plan
-- A plan's line for one destination.
INSERT INTO ops.sync_runs (run_id, plan_date, phase, destination, planned, excluded, size_alerts, duration_s)
VALUES ($run_id, CAST($date AS DATE), 'plan', $destination, $planned, $excluded, $size_alerts, $duration_s);

-- name: record_apply
-- An apply's line for one destination, with the members the date's plan
-- excluded there (an empty error is stored as NULL).
INSERT INTO ops.sync_runs
    (run_id, plan_date, phase, destination, planned, sent, accepted, rejected, retried, dead_lettered, excluded, duration_s, error)
VALUES ($run_id, CAST($date AS DATE), 'apply', $destination, $planned, $sent, $accepted, $rejected, $retried, $dead_lettered,
        (SELECT coalesce(sum(customers), 0) FROM ops.activation_exclusions WHERE plan_date = CAST($date AS DATE) AND destination = $destination), $duration_s, nullif($error, ''));

-- name: step_log
-- The lines of the latest plan or apply ($phase) of a date, for
-- `parcours activate plan|apply`.
SELECT phase, destination, planned, sent, accepted, rejected, retried, dead_lettered,
       excluded, size_alerts, round(duration_s, 2) AS duration_s, coalesce(error, '') AS error
FROM ops.sync_runs WHERE plan_date = CAST($date AS DATE) AND phase = $phase
  AND run_id = (SELECT run_id FROM ops.sync_runs WHERE plan_date = CAST($date AS DATE) AND phase = $phase ORDER BY finished_at DESC LIMIT 1)
ORDER BY destination;

-- name: recent
-- The latest lines, of one date or ($date NULL) of all, for `parcours status`.
SELECT CAST(plan_date AS VARCHAR) AS date, phase, destination, planned, sent, accepted, rejected, retried,
       dead_lettered, excluded, size_alerts, round(duration_s, 2) AS duration_s, error
FROM ops.sync_runs WHERE $date IS NULL OR plan_date = CAST($date AS DATE) ORDER BY finished_at DESC, destination LIMIT $limit;
