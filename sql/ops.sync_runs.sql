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
