-- The statements of `parcours activate plan`: who each destination's
-- segments hold on the plan date, who the gates keep out and why, and what
-- the destination holds (ops.sync_state) that must leave it. The job fills
-- dest_segments from the config: destination, segment (as configured),
-- family and name (split at the colon), is_trigger, purpose (the consent
-- purpose the destination needs), mirror (mode mirror) and priority (the
-- destination's rank in the config: the frequency cap serves the first
-- destinations first). $now is the end of the plan date in the business
-- time zone: consent must be valid then.

-- name: destinations
-- The configured destinations' segments (filled by the job), and a clean
-- slate for this date's exclusion counts.
-- temp: builds dest_segments
CREATE OR REPLACE TEMP TABLE dest_segments (
    destination VARCHAR, segment VARCHAR, family VARCHAR, name VARCHAR, is_trigger BOOLEAN,
    purpose VARCHAR, mirror BOOLEAN, priority INTEGER);
DELETE FROM ops.activation_exclusions WHERE plan_date = CAST($date AS DATE);

-- name: audience
-- Segment members are the latest computation of their family on or before
-- the date; trigger members are that day's fires (each fire is a message,
-- so it is "present" only if it was already sent that day). Gates, in this
-- order: consent for the destination's purpose valid at $now; no
-- identifier of the customer on the suppression list; no objection (to
-- profiling or marketing, or a contested decision); for members new to
-- the destination, the frequency cap: at most $cap messages per customer
-- over the $window_days days ending on the date, across destinations
-- (accepted adds of earlier days count; today's new members are served in
-- priority order). A member of a batch still waiting to be re-sent (dead)
-- is in flight: not planned again.
-- temp: builds audience; reads dest_segments
CREATE OR REPLACE TEMP TABLE audience AS
WITH latest AS (
    SELECT family, max(computed_on) AS computed_on
    FROM analytics.segment_members
    WHERE computed_on <= CAST($date AS DATE)
    GROUP BY family
), seg AS (
    SELECT d.destination, d.segment, d.priority, d.purpose, d.is_trigger, m.customer_key
    FROM dest_segments d
    JOIN analytics.segment_members m ON m.family = d.family AND m.segment = d.name
    JOIN latest l ON l.family = m.family AND l.computed_on = m.computed_on
    WHERE NOT d.is_trigger
    UNION
    SELECT d.destination, d.segment, d.priority, d.purpose, d.is_trigger, f.customer_key
    FROM dest_segments d
    JOIN analytics.trigger_fires f ON d.is_trigger AND f."trigger" = d.name
    WHERE f.fired_on = CAST($date AS DATE)
), gated AS (
    SELECT s.*,
           CASE WHEN NOT EXISTS (
                    SELECT 1 FROM consent.intervals i
                    WHERE i.customer_key = s.customer_key AND i.purpose = s.purpose
                      AND i.valid_from <= CAST($now AS TIMESTAMPTZ)
                      AND (i.valid_to IS NULL OR i.valid_to > CAST($now AS TIMESTAMPTZ)))
                  THEN 'no_consent'
                WHEN EXISTS (
                    SELECT 1 FROM identity.customer_map cm JOIN ops.suppression x ON x.id_token = cm.id_token
                    WHERE cm.customer_key = s.customer_key)
                  THEN 'suppressed'
                WHEN s.customer_key IN (SELECT customer_key FROM consent.objecting)
                  THEN 'objected' END AS gate,
           EXISTS (SELECT 1 FROM ops.sync_state st
                   WHERE st.destination = s.destination AND st.segment = s.segment
                     AND st.customer_key = s.customer_key AND st.status = 'active'
                     AND (NOT s.is_trigger OR st.last_sent = CAST($date AS DATE))) AS present,
           EXISTS (SELECT 1 FROM ops.activation_members am
                   JOIN ops.activation_batches b USING (idempotency_key)
                   WHERE b.status IN ('dead', 'sending') AND b.op = 'upsert' AND b.destination = s.destination
                     AND b.segment = s.segment AND am.customer_key = s.customer_key
                     AND am.outcome IS NULL) AS in_flight
    FROM seg s
), sent AS (
    -- messages already sent in the window, today's included (a re-run of
    -- the date must not send more), and adds still in flight in a batch
    -- waiting to be re-sent (they may have reached the destination)
    SELECT am.customer_key, count(*) AS n
    FROM ops.activation_members am JOIN ops.activation_batches b USING (idempotency_key)
    WHERE am.kind = 'add' AND am.customer_key IS NOT NULL
      AND (am.outcome = 'accepted' OR (am.outcome IS NULL AND b.status IN ('dead', 'sending')))
      AND b.plan_date > CAST($date AS DATE) - CAST($window_days AS INTEGER)
      AND b.plan_date <= CAST($date AS DATE)
    GROUP BY ALL
), ranked AS (
    SELECT g.destination, g.segment, g.customer_key,
           coalesce(sn.n, 0) + row_number() OVER (PARTITION BY g.customer_key ORDER BY g.priority, g.segment) AS nth
    FROM gated g LEFT JOIN sent sn USING (customer_key)
    WHERE g.gate IS NULL AND NOT g.present AND NOT g.in_flight
)
SELECT g.destination, g.segment, g.customer_key, g.present, g.in_flight,
       coalesce(g.gate, CASE WHEN r.nth > CAST($cap AS INTEGER) THEN 'frequency_cap' END) AS excluded
FROM gated g
LEFT JOIN ranked r USING (destination, segment, customer_key);

-- name: leaving
-- What a destination holds (ops.sync_state) that must leave it, and why.
-- Privacy removals happen in every mode: the subject was erased (the purge
-- cut the customer key), consent for the destination's purpose is no
-- longer valid at $now, an identifier is suppressed, or the customer
-- objects (consent.objecting). Members who merely
-- left the segment are removed in mirror mode only, and never from a
-- trigger audience (a fire is a message, not a membership). Only members
-- this tool sent are ever removed: nothing else is in ops.sync_state.
-- temp: builds leaving; reads audience, dest_segments
CREATE OR REPLACE TEMP TABLE leaving AS
WITH dests AS (   -- a destination's purpose and mode, whatever segments it holds
    SELECT destination, any_value(purpose) AS purpose, bool_or(mirror) AS mirror FROM dest_segments GROUP BY ALL
)
SELECT * FROM (
SELECT st.destination, st.segment, st.customer_key, st.remote_id,
       CASE WHEN st.status = 'erase_pending' OR st.customer_key IS NULL THEN 'erased'
            WHEN NOT EXISTS (
                SELECT 1 FROM consent.intervals i
                WHERE i.customer_key = st.customer_key AND i.purpose = d.purpose
                  AND i.valid_from <= CAST($now AS TIMESTAMPTZ)
                  AND (i.valid_to IS NULL OR i.valid_to > CAST($now AS TIMESTAMPTZ))) THEN 'no_consent'
            WHEN EXISTS (
                SELECT 1 FROM identity.customer_map cm JOIN ops.suppression x ON x.id_token = cm.id_token
                WHERE cm.customer_key = st.customer_key) THEN 'suppressed'
            WHEN st.customer_key IN (SELECT customer_key FROM consent.objecting) THEN 'objected'
            -- leaving the segment: mirror mode, configured segments only
            -- (dropping a segment from the config never wipes its audience)
            WHEN d.mirror AND st.segment NOT LIKE 'trigger:%'
                 AND EXISTS (SELECT 1 FROM dest_segments ds WHERE ds.destination = st.destination AND ds.segment = st.segment)
                 AND NOT EXISTS (
                SELECT 1 FROM audience a
                WHERE a.destination = st.destination AND a.segment = st.segment
                  AND a.customer_key = st.customer_key) THEN 'left_segment'
       END AS reason
FROM ops.sync_state st
JOIN dests d ON d.destination = st.destination
WHERE NOT EXISTS (   -- a removal already planned and not settled is in flight
    SELECT 1 FROM ops.activation_members am JOIN ops.activation_batches b USING (idempotency_key)
    WHERE b.status IN ('planned', 'dead', 'sending') AND b.op = 'remove' AND b.destination = st.destination
      AND b.segment = st.segment AND am.remote_id = st.remote_id AND am.outcome IS NULL)
) WHERE reason IS NOT NULL;

-- name: abandon
-- Dead batches (and batches an apply started and did not finish:
-- 'sending') whose members no longer all pass the gates (an erased member,
-- a consent that ended, a suppressed identifier) are not re-sent: re-sending the same bytes
-- would deliver someone who may no longer be sent. They are abandoned; the
-- plan removes those members from the destination (the failed attempt may
-- have reached it) and re-plans the others in new batches.
-- temp: builds abandoned, compensate, superseded; reads dest_segments
CREATE OR REPLACE TEMP TABLE abandoned AS
SELECT DISTINCT b.idempotency_key
FROM ops.activation_batches b
JOIN ops.activation_members am USING (idempotency_key)
JOIN dest_segments d ON d.destination = b.destination AND d.segment = b.segment
WHERE b.status IN ('dead', 'sending') AND b.op = 'upsert' AND am.outcome IS NULL
  AND (am.customer_key IS NULL
       OR NOT EXISTS (
           SELECT 1 FROM consent.intervals i
           WHERE i.customer_key = am.customer_key AND i.purpose = d.purpose
             AND i.valid_from <= CAST($now AS TIMESTAMPTZ)
             AND (i.valid_to IS NULL OR i.valid_to > CAST($now AS TIMESTAMPTZ)))
       OR EXISTS (
           SELECT 1 FROM identity.customer_map cm JOIN ops.suppression x ON x.id_token = cm.id_token
           WHERE cm.customer_key = am.customer_key)
       OR am.customer_key IN (SELECT customer_key FROM consent.objecting));
-- Removal batches holding a member erased after they were planned (they
-- carry the member's fields): the erased member's removal is planned
-- afresh, by remote id only.
INSERT INTO abandoned
SELECT DISTINCT b.idempotency_key FROM ops.activation_batches b
JOIN ops.activation_members am USING (idempotency_key)
WHERE b.status IN ('dead', 'sending') AND b.op = 'remove' AND am.outcome IS NULL
  AND am.customer_key IS NULL AND coalesce(am.reason, '') <> 'erased';
-- Batches of destinations or segments no longer configured cannot be sent.
INSERT INTO abandoned
SELECT b.idempotency_key FROM ops.activation_batches b
WHERE b.status IN ('dead', 'sending', 'planned')
  AND NOT EXISTS (SELECT 1 FROM dest_segments d WHERE d.destination = b.destination AND d.segment = b.segment);
-- Compensating removals: the abandoned batches' unsettled members who fail
-- a gate now, by the id the destination would know them by.
CREATE OR REPLACE TEMP TABLE compensate AS
SELECT * FROM (
SELECT DISTINCT b.destination, b.segment, am.customer_key, am.remote_id,
       CASE WHEN am.customer_key IS NULL THEN 'erased'
            WHEN NOT EXISTS (
                SELECT 1 FROM consent.intervals i
                WHERE i.customer_key = am.customer_key AND i.purpose = d.purpose
                  AND i.valid_from <= CAST($now AS TIMESTAMPTZ)
                  AND (i.valid_to IS NULL OR i.valid_to > CAST($now AS TIMESTAMPTZ))) THEN 'no_consent'
            WHEN EXISTS (
                SELECT 1 FROM identity.customer_map cm JOIN ops.suppression x ON x.id_token = cm.id_token
                WHERE cm.customer_key = am.customer_key) THEN 'suppressed'
            WHEN am.customer_key IN (SELECT customer_key FROM consent.objecting) THEN 'objected'
       END AS reason
FROM ops.activation_batches b
JOIN ops.activation_members am USING (idempotency_key)
JOIN dest_segments d ON d.destination = b.destination AND d.segment = b.segment
WHERE b.idempotency_key IN (SELECT idempotency_key FROM abandoned)
  AND b.op = 'upsert' AND am.outcome IS NULL
) WHERE reason IS NOT NULL;
UPDATE ops.activation_batches SET status = 'abandoned'
WHERE idempotency_key IN (SELECT idempotency_key FROM abandoned);
DELETE FROM ops.dead_letters WHERE idempotency_key IN (SELECT idempotency_key FROM abandoned);
-- Earlier dates' batches never attempted are replaced by this plan.
CREATE OR REPLACE TEMP TABLE superseded AS
SELECT idempotency_key FROM ops.activation_batches WHERE status = 'planned' AND plan_date < CAST($date AS DATE);
UPDATE ops.activation_batches SET status = 'superseded'
WHERE idempotency_key IN (SELECT idempotency_key FROM superseded);
-- This date's own unsent plan is recomputed.
DELETE FROM ops.activation_members WHERE idempotency_key IN (
    SELECT idempotency_key FROM ops.activation_batches WHERE status = 'planned' AND plan_date = CAST($date AS DATE));
DELETE FROM ops.activation_batches WHERE status = 'planned' AND plan_date = CAST($date AS DATE);

-- The job's reads and writes around the transforms above.

-- name: add_dest_segment
-- One configured segment of a destination into the TEMP table
-- dest_segments (see the destinations section of activation.plan.sql).
-- temp: reads dest_segments
INSERT INTO dest_segments VALUES ($destination, $segment, $family, $name, $is_trigger, $purpose, $mirror, $priority);

-- name: read_audience
-- The TEMP table audience, with what ops.sync_state holds for each member
-- present at the destination, in destination, segment and customer order.
-- temp: reads audience
SELECT a.destination, a.segment, a.customer_key, a.present, a.in_flight,
       coalesce(a.excluded, ''), coalesce(st.remote_id, ''), coalesce(st.fingerprint, '')
FROM audience a
LEFT JOIN ops.sync_state st ON a.present AND st.destination = a.destination AND st.segment = a.segment
     AND st.customer_key = a.customer_key AND st.status = 'active'
ORDER BY a.destination, a.segment, a.customer_key;

-- name: read_leavers
-- The members to take out of each destination: the TEMP tables leaving
-- and compensate, by destination, segment and remote id.
-- temp: reads compensate, leaving
SELECT destination, segment, coalesce(customer_key, ''), remote_id, reason FROM leaving
UNION ALL
SELECT destination, segment, coalesce(customer_key, ''), remote_id, reason FROM compensate
ORDER BY 1, 2, 4;

-- name: ad_consents
-- The ad consent signals (marketing_ads, personalization) valid at $now of
-- the members the TEMP table audience lets through.
-- temp: reads audience
SELECT customer_key, purpose FROM consent.intervals
WHERE purpose IN ('marketing_ads', 'personalization')
  AND customer_key IN (SELECT customer_key FROM audience WHERE excluded IS NULL)
  AND valid_from <= CAST($now AS TIMESTAMPTZ) AND (valid_to IS NULL OR valid_to > CAST($now AS TIMESTAMPTZ));

-- name: vault_entries
-- How many vault entries there are: none means no contact fields to read
-- (and no master key needed).
SELECT count(*) FROM vault.pii;

-- name: shard_role
-- The warehouse's role when it is a customer shard ('' otherwise): a
-- shard's batches carry its number in their idempotency keys.
SELECT coalesce(max(value), '') FROM ops.meta WHERE key = 'role' AND value <> 'merged';
