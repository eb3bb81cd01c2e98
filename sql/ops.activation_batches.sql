-- ops.activation_batches: the plan of each activation date and what became
-- of it. `activate plan` writes one row per batch with the payload file it
-- would send; `activate apply` sends exactly that file and records the
-- outcome. An accepted batch is never sent again, so re-applying a date is
-- a no-op and a crash between batches resumes where it stopped. A batch
-- that failed temporarily is 'dead' (ops.dead_letters) and is re-sent,
-- byte for byte under the same idempotency key, by the next apply; one
-- whose members no longer all pass the gates (consent withdrawn, erased)
-- is 'abandoned' instead and its members planned afresh. A plan replaces
-- the earlier dates' batches that were never attempted ('superseded').
-- Payload files hold personal data: they are deleted once their batch is
-- accepted, abandoned or superseded.
-- grain: one row per idempotency key (destination/segment/date/op/batch)

-- name: create
CREATE TABLE IF NOT EXISTS ops.activation_batches (
    idempotency_key  VARCHAR NOT NULL,
    plan_date        DATE NOT NULL,
    destination      VARCHAR NOT NULL,
    segment          VARCHAR NOT NULL,   -- as configured: family:segment or trigger:name
    op               VARCHAR NOT NULL,   -- upsert | remove
    batch            INTEGER NOT NULL,
    members          BIGINT NOT NULL,
    requests         INTEGER NOT NULL,   -- requests the connector encoded the batch into
    payload          VARCHAR NOT NULL,   -- file, relative to the activation folder
    sha256           VARCHAR NOT NULL,   -- of the payload file
    status           VARCHAR NOT NULL,   -- planned | accepted | partial | dead | abandoned | superseded
    accepted         BIGINT NOT NULL DEFAULT 0,
    rejected         BIGINT NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,   -- HTTP attempts over every apply
    applies          INTEGER NOT NULL DEFAULT 0,   -- applies that tried it
    sent_at          TIMESTAMPTZ,
    error            VARCHAR
);
