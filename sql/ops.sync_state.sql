-- ops.sync_state: what each destination holds because this tool sent it,
-- per segment: the member, the fingerprint of the fields sent (a change
-- means an update is due), the id the destination knows the member by
-- (remote_id: our pseudonymous key for webhooks and file drops, the
-- platform's hashed identifiers for ad audiences, the subscriber hash for
-- email platforms) and whether the destination accepted it. Mirror mode
-- removes only members listed here. On erasure the customer key is cut
-- (customer_key NULL, status erase_pending) and the next run removes the
-- member everywhere through remote_id, then deletes the row.
-- grain: one row per (destination, segment, remote_id)

-- name: create
CREATE TABLE IF NOT EXISTS ops.sync_state (
    destination   VARCHAR NOT NULL,
    segment       VARCHAR NOT NULL,   -- family:segment or trigger:name
    customer_key  VARCHAR,            -- NULL once erased
    remote_id     VARCHAR NOT NULL,
    fingerprint   VARCHAR NOT NULL,   -- sha256 of the member's fields as sent
    status        VARCHAR NOT NULL,   -- active | erase_pending
    first_sent    DATE NOT NULL,
    last_sent     DATE NOT NULL,
    last_batch    VARCHAR NOT NULL    -- idempotency key of the batch that last carried it
);

-- name: held
-- The remote ids each destination's segment holds, with the customer each
-- stands for ('' once erased).
SELECT destination, segment, remote_id, coalesce(customer_key, '')
FROM ops.sync_state WHERE status = 'active';
