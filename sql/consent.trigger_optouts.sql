-- consent.trigger_optouts: per-trigger opt-outs and opt-ins as received,
-- with the customer pseudonymised (token of their customer id). A
-- preference, not a consent: it is honoured whatever the consent state,
-- and kept whole, like consent.events, because the latest record per
-- customer and trigger decides (triggers join identity.customer_map on
-- subject_token to reach the customer key).
-- grain: one row per optout_id

-- name: create
CREATE TABLE IF NOT EXISTS consent.trigger_optouts (
    optout_id      VARCHAR NOT NULL,
    subject_token  VARCHAR NOT NULL,  -- pseudonym('customer_id', customer_id)
    "trigger"      VARCHAR NOT NULL,  -- cart_abandonment | browse_abandonment | post_contact | win_back
    status         VARCHAR NOT NULL,  -- opt_out | opt_in
    ts             TIMESTAMPTZ NOT NULL,
    run_id         VARCHAR NOT NULL
);

-- name: load
-- New records of this batch; an erased subject's records never come back.
INSERT INTO consent.trigger_optouts
SELECT l.optout_id, pseudonym('customer_id', l.customer_id), l."trigger", l.status, l.ts, $run_id
FROM kind.trigger_optouts l
WHERE l.optout_id NOT IN (SELECT optout_id FROM consent.trigger_optouts)
  AND pseudonym('customer_id', l.customer_id) NOT IN (SELECT id_token FROM ops.suppression)
QUALIFY row_number() OVER (PARTITION BY l.optout_id ORDER BY l.ts) = 1;
