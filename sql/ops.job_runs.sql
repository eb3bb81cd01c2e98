-- ops.job_runs: the run ledger. One row per attempt of a job for a logical
-- date. `parcours status` reads it; the runner skips a job that has a
-- succeeded row for the date (unless --force) and resumes after a failure.
-- grain: one row per (run_id, job)

-- name: create
CREATE TABLE IF NOT EXISTS ops.job_runs (
    run_id        VARCHAR     NOT NULL,
    job           VARCHAR     NOT NULL,
    logical_date  DATE        NOT NULL,
    attempt       INTEGER     NOT NULL,
    status        VARCHAR     NOT NULL,  -- running | succeeded | failed
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    rows_in       BIGINT,
    rows_out      BIGINT,
    error         VARCHAR,
    detail        JSON,
    host          VARCHAR,
    pid           INTEGER,
    PRIMARY KEY (run_id, job)
);

-- name: start
INSERT INTO ops.job_runs (run_id, job, logical_date, attempt, status, started_at, host, pid)
VALUES ($run_id, $job, $date, $attempt, 'running', $started_at, $host, $pid);

-- name: finish
UPDATE ops.job_runs
SET status = $status, ended_at = $ended_at, rows_in = $rows_in, rows_out = $rows_out,
    error = $error, detail = $detail
WHERE run_id = $run_id AND job = $job;

-- name: interrupted
-- A row left 'running' while we hold the warehouse lock belongs to a process
-- that died mid-job: record it as failed so the next run resumes there.
UPDATE ops.job_runs
SET status = 'failed', ended_at = now(),
    error = 'interrupted: the process ended before the job finished'
WHERE status = 'running';

-- name: state
-- Latest attempt of each job for a date, with its error or skip reason.
SELECT job, status, attempt, coalesce(error, '') AS error
FROM ops.job_runs
WHERE logical_date = $date
QUALIFY row_number() OVER (PARTITION BY job ORDER BY attempt DESC, started_at DESC) = 1;

-- name: list
SELECT run_id, job, logical_date, attempt, status, started_at, ended_at,
       rows_in, rows_out, error
FROM ops.job_runs
WHERE ($date IS NULL OR logical_date = $date)
ORDER BY logical_date DESC, started_at DESC, run_id DESC
LIMIT $limit;

-- name: succeeded_in_run
-- Whether job $job succeeded in run $run_id (the score job reuses the
-- features its run's features job built rather than building them again).
SELECT EXISTS (SELECT 1 FROM ops.job_runs WHERE run_id = $run_id AND job = $job AND status = 'succeeded');

-- name: count
-- How many job attempts the warehouse has run (none: it may still take a
-- shard role).
SELECT count(*) FROM ops.job_runs;
