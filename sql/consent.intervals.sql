-- consent.intervals: when each customer may be used for each purpose.
-- THE consent gate: every job asks it, in SQL by joining this table
-- (fact time in [valid_from, valid_to)), in Go through consent.Gate.May,
-- which reads the same rows. Rebuilt each run from consent_events and the
-- current stitching: a consent given with an email applies to the customer
-- that email belongs to (never through an identifier the over-merge guard
-- blocked). Per customer and purpose, records are read in time order: a
-- grant opens an interval, which ends at the next record (a withdrawal, or
-- a renewal that opens the next interval) or at its expiry.
-- grain: one row per (customer_key, purpose, valid_from)

-- name: create
CREATE TABLE IF NOT EXISTS consent.intervals (
    customer_key  VARCHAR NOT NULL,
    purpose       VARCHAR NOT NULL,
    valid_from    TIMESTAMPTZ NOT NULL,
    valid_to      TIMESTAMPTZ,        -- NULL: still valid, no expiry
    ended_by      VARCHAR NOT NULL,   -- open | withdrawn | expired | renewed
    consent_id    VARCHAR NOT NULL,   -- the grant
    source        VARCHAR
);

-- name: build
DELETE FROM consent.intervals;
INSERT INTO consent.intervals
WITH ev AS (
    SELECT m.customer_key, e.purpose, e.status, e.ts, e.expires_at, e.source, e.consent_id,
           lead(e.ts)     OVER w AS next_ts,
           lead(e.status) OVER w AS next_status
    FROM consent.events e
    JOIN identity.customer_map m ON m.id_token = e.subject_token AND NOT m.blocked
    WINDOW w AS (PARTITION BY m.customer_key, e.purpose ORDER BY e.ts, e.consent_id)
), iv AS (
    SELECT customer_key, purpose, ts AS valid_from,
           CASE WHEN expires_at IS NULL THEN next_ts
                WHEN next_ts IS NULL THEN expires_at
                ELSE least(expires_at, next_ts) END AS valid_to,
           CASE WHEN expires_at IS NOT NULL AND (next_ts IS NULL OR expires_at <= next_ts) THEN 'expired'
                WHEN next_ts IS NULL THEN 'open'
                WHEN next_status = 'withdrawn' THEN 'withdrawn'
                ELSE 'renewed' END AS ended_by,
           consent_id, source
    FROM ev
    WHERE status = 'granted'
)
SELECT * FROM iv
WHERE (valid_to IS NULL OR valid_to > valid_from)
  AND in_shard(customer_key, NULL)  -- true unless the warehouse is a customer shard
ORDER BY customer_key, purpose, valid_from;
