-- ops.dead_letters: batches a destination failed to take after every
-- attempt (temporary: 429, 5xx, timeouts, dropped connections; permanent:
-- credentials, unknown audience), kept for the next apply to retry under
-- the same idempotency key. Cleared when the batch is accepted or
-- abandoned.
-- grain: one row per idempotency key

-- name: create
CREATE TABLE IF NOT EXISTS ops.dead_letters (
    idempotency_key  VARCHAR NOT NULL,
    destination      VARCHAR NOT NULL,
    first_failed     TIMESTAMPTZ NOT NULL,
    last_failed      TIMESTAMPTZ NOT NULL,
    runs             INTEGER NOT NULL,    -- applies that tried it
    kind             VARCHAR NOT NULL,    -- temporary | permanent
    error            VARCHAR NOT NULL
);
