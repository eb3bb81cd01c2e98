-- analytics.trigger_exclusions: how many customers each trigger would have
-- reached on a run's date but kept out, and why (no_consent: no consent
-- for the channel's purpose at the end of the day; objected: they object
-- to profiling or marketing, or contest a decision; opted_out: their latest
-- record for that trigger is an opt-out; cooldown: it fired for them
-- recently). Counts only, never who: each candidate is counted once, under
-- the first rule that kept it out. Every trigger and reason has a row,
-- zero included, so "nothing kept out" reads as 0, not as a gap.
-- Replaced for a date as a whole, from the trigger_gated table that
-- analytics.trigger_fires.sql's gate section builds on the same connection.
-- grain: one row per (fired_on, trigger, reason)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.trigger_exclusions (
    fired_on   DATE NOT NULL,
    "trigger"  VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL,   -- no_consent | objected | opted_out | cooldown
    customers  BIGINT NOT NULL
);

-- name: write
-- temp: reads trigger_defs, trigger_gated
DELETE FROM analytics.trigger_exclusions WHERE fired_on = CAST($date AS DATE);
INSERT INTO analytics.trigger_exclusions
SELECT CAST($date AS DATE), d."trigger", r.reason, count(DISTINCT g.customer_key)
FROM trigger_defs d
CROSS JOIN (VALUES ('no_consent'), ('objected'), ('opted_out'), ('cooldown')) AS r(reason)
LEFT JOIN trigger_gated g ON g."trigger" = d."trigger" AND g.excluded = r.reason
GROUP BY d."trigger", r.reason
ORDER BY d."trigger", r.reason;
