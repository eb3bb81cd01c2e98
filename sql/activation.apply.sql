-- The statements of `parcours activate apply`, run once per batch sent, in
-- one transaction with the batch's outcome: a crash between batches leaves
-- every accepted batch recorded (never re-sent) and the others unsettled
-- (re-sent under the same idempotency key, which the destination replays
-- instead of applying twice). The job fills settled (member_key, outcome,
-- detail) with what the destination said about each member it answered.

-- name: settle
-- temp: reads settled
UPDATE ops.activation_members am SET outcome = s.outcome, detail = s.detail
FROM settled s
WHERE am.idempotency_key = $batch_key AND am.member_key = s.member_key;
-- An accepted removal: the destination no longer holds the member.
DELETE FROM ops.sync_state st
USING ops.activation_batches b, ops.activation_members am
WHERE b.idempotency_key = $batch_key AND b.op = 'remove'
  AND am.idempotency_key = $batch_key AND am.outcome = 'accepted'
  AND st.destination = b.destination AND st.segment = b.segment AND st.remote_id = am.remote_id;
-- An accepted add or update: what the destination now holds, as sent.
UPDATE ops.sync_state st
SET customer_key = am.customer_key, fingerprint = am.fingerprint, status = 'active',
    last_sent = b.plan_date, last_batch = $batch_key
FROM ops.activation_batches b, ops.activation_members am
WHERE b.idempotency_key = $batch_key AND b.op = 'upsert'
  AND am.idempotency_key = $batch_key AND am.outcome = 'accepted'
  AND st.destination = b.destination AND st.segment = b.segment AND st.remote_id = am.remote_id;
INSERT INTO ops.sync_state
SELECT b.destination, b.segment, am.customer_key, am.remote_id, am.fingerprint, 'active',
       b.plan_date, b.plan_date, $batch_key
FROM ops.activation_batches b
JOIN ops.activation_members am USING (idempotency_key)
WHERE b.idempotency_key = $batch_key AND b.op = 'upsert' AND am.outcome = 'accepted'
  AND NOT EXISTS (SELECT 1 FROM ops.sync_state st
                  WHERE st.destination = b.destination AND st.segment = b.segment
                    AND st.remote_id = am.remote_id);
UPDATE ops.activation_batches b
SET status = CAST($batch_status AS VARCHAR),
    accepted = (SELECT count(*) FROM ops.activation_members am WHERE am.idempotency_key = $batch_key AND am.outcome = 'accepted'),
    rejected = (SELECT count(*) FROM ops.activation_members am WHERE am.idempotency_key = $batch_key AND am.outcome = 'rejected'),
    attempts = attempts + CAST($attempts AS INTEGER), applies = applies + 1, sent_at = now(),
    error = CAST($batch_error AS VARCHAR)
WHERE idempotency_key = $batch_key;
-- An erased subject's removal accepted: nothing of them is kept (for
-- webhooks and file drops the remote id is their pseudonymous key).
DELETE FROM ops.activation_members
WHERE customer_key IS NULL
  AND remote_id IN (SELECT remote_id FROM ops.activation_members
                    WHERE idempotency_key = $batch_key AND outcome = 'accepted' AND reason = 'erased')
  AND idempotency_key IN (SELECT idempotency_key FROM ops.activation_batches   -- settled batches only
                          WHERE status NOT IN ('planned', 'sending', 'dead')
                            AND destination = (SELECT destination FROM ops.activation_batches WHERE idempotency_key = $batch_key));
-- Dead letters: kept while the batch waits to be re-sent, cleared once
-- the destination took it.
DELETE FROM ops.dead_letters
WHERE idempotency_key = $batch_key AND CAST($batch_status AS VARCHAR) <> 'dead';
UPDATE ops.dead_letters
SET last_failed = now(), runs = runs + 1, kind = CAST($failure_kind AS VARCHAR), error = CAST($batch_error AS VARCHAR)
WHERE idempotency_key = $batch_key AND CAST($batch_status AS VARCHAR) = 'dead';
INSERT INTO ops.dead_letters
SELECT $batch_key, b.destination, now(), now(), 1, CAST($failure_kind AS VARCHAR), CAST($batch_error AS VARCHAR)
FROM ops.activation_batches b
WHERE b.idempotency_key = $batch_key AND CAST($batch_status AS VARCHAR) = 'dead'
  AND NOT EXISTS (SELECT 1 FROM ops.dead_letters d WHERE d.idempotency_key = $batch_key);

-- name: guard
-- Members of a batch erased since it was planned: such a batch is never
-- sent (its payload carries their data, and a removal planned before the
-- erasure only unsubscribes). It is left as it is; the next plan abandons
-- it, removes the member by remote id wherever an earlier attempt may
-- have reached, and re-plans the others.
SELECT count(*) FROM ops.activation_members am
JOIN ops.activation_batches b USING (idempotency_key)
WHERE am.idempotency_key = $batch_key AND am.customer_key IS NULL AND am.outcome IS NULL
  AND (b.op = 'upsert' OR coalesce(am.reason, '') <> 'erased');

-- name: sending
-- A batch about to be sent for the first time: from now on it may have
-- reached the destination, so a re-plan never deletes it or reuses its
-- key; an apply that dies before settling it re-sends it like a dead one.
UPDATE ops.activation_batches SET status = 'sending'
WHERE idempotency_key = $batch_key AND status = 'planned';

-- The job's reads and writes around the transforms above.

-- name: settled
-- What the destination said about each member of a batch, from the lists
-- $member_keys, $outcomes and $details (one entry per member, '' for no
-- detail), into the TEMP table settled that the settle section of
-- activation.apply.sql reads.
-- temp: builds settled
CREATE OR REPLACE TEMP TABLE settled AS
SELECT unnest(CAST($member_keys AS VARCHAR[])) AS member_key, unnest(CAST($outcomes AS VARCHAR[])) AS outcome,
       nullif(unnest(CAST($details AS VARCHAR[])), '') AS detail;
