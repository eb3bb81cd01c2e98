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

-- name: status_counts
-- Batches per status: counted before and after the plan's abandon section,
-- the difference is what the plan abandoned and superseded.
SELECT status, count(*) FROM ops.activation_batches GROUP BY ALL;

-- name: open_count
-- Batches a plan may still settle: planned, being sent, or dead. With none
-- and no destination configured, a plan has nothing to do.
SELECT count(*) FROM ops.activation_batches WHERE status IN ('planned', 'sending', 'dead');

-- name: next_batch
-- The number of the next batch of a destination's segment, date and op
-- (a re-plan of the date numbers on after the earlier batches).
SELECT coalesce(max(batch) + 1, 0) FROM ops.activation_batches
WHERE destination = $destination AND segment = $segment AND plan_date = CAST($date AS DATE) AND op = $op;

-- name: record_planned
-- A batch the plan wrote a payload file for, waiting for apply.
INSERT INTO ops.activation_batches
    (idempotency_key, plan_date, destination, segment, op, batch, members, requests, payload, sha256, status)
VALUES ($idempotency_key, CAST($date AS DATE), $destination, $segment, $op, $batch, $members, $requests, $payload, $sha256, 'planned');

-- name: current_payloads
-- The payload files of batches still to send or re-send: a file a plan
-- dropped but a re-plan wrote again under the same name must stay.
SELECT payload FROM ops.activation_batches WHERE status IN ('planned', 'sending', 'dead');

-- name: dropped_payloads
-- The payload files of the batches the plan's abandon section just
-- abandoned or superseded (it lists them in the TEMP tables abandoned
-- and superseded).
-- temp: reads abandoned, superseded
SELECT payload FROM ops.activation_batches
WHERE idempotency_key IN (SELECT idempotency_key FROM abandoned UNION ALL SELECT idempotency_key FROM superseded);

-- name: unsent_payloads
-- The payload files of the date's batches never sent: a new plan of the
-- date replaces them.
SELECT payload FROM ops.activation_batches
WHERE status = 'planned' AND plan_date = CAST($date AS DATE);

-- name: pending
-- The batches apply sends: the date's planned ones and every one up to the
-- date left dead or unsettled ('sending': an apply died while sending it),
-- per destination removals first (privacy before reach), then in plan order.
SELECT idempotency_key, destination, segment, op, payload, sha256, plan_date, members
FROM ops.activation_batches
WHERE (status = 'planned' AND plan_date = CAST($date AS DATE)) OR (status IN ('dead', 'sending') AND plan_date <= CAST($date AS DATE))
ORDER BY destination, CASE op WHEN 'remove' THEN 0 ELSE 1 END, plan_date, segment, batch;

-- name: plan_view
-- What `parcours activate plan|apply` shows for a date: per destination and
-- segment the members to upsert and remove, the batches and their
-- statuses, the audience size and the exclusions by reason.
SELECT b.destination, b.segment,
       sum(b.members) FILTER (op = 'upsert') AS upsert, sum(b.members) FILTER (op = 'remove') AS remove,
       count(*) AS batches, string_agg(DISTINCT b.status, ',') AS status,
       (SELECT members FROM ops.activation_audiences a WHERE a.plan_date = b.plan_date
          AND a.destination = b.destination AND a.segment = b.segment) AS audience,
       (SELECT string_agg(reason || ' ' || customers, ', ' ORDER BY reason) FROM ops.activation_exclusions x
          WHERE x.plan_date = b.plan_date AND x.destination = b.destination AND x.segment = b.segment) AS excluded
FROM ops.activation_batches b WHERE b.plan_date = CAST($date AS DATE)
GROUP BY b.plan_date, b.destination, b.segment ORDER BY 1, 2;
