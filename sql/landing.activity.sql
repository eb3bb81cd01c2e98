-- activity (TEMP, per run): every fact of this batch, consented or not,
-- reduced to what cold aggregates need: who (member = customer_key, NULL
-- for a till receipt without a card), when, channel, kind, session,
-- device, amount, and the customer's generalised region and birth year.
-- Facts touching an erased identifier are left out entirely. This table
-- never leaves the run: cold tables only ever see its aggregates.

-- name: build
-- temp: builds activity_all, batches, foreign_sessions
CREATE OR REPLACE TEMP TABLE batches AS
SELECT DISTINCT _run_id AS batch FROM (
    SELECT _run_id FROM kind.events UNION ALL SELECT _run_id FROM kind.orders
    UNION ALL SELECT _run_id FROM kind.contacts UNION ALL SELECT _run_id FROM kind.email_events
    UNION ALL SELECT _run_id FROM kind.surveys
);
CREATE OR REPLACE TEMP TABLE activity_all AS
SELECT a.*, coalesce(ca.region, 'unknown') AS region, ca.birth_year
FROM (
    SELECT f._run_id AS batch, f._customer_key AS member, f.ts, f.event_date AS day, 'web' AS channel, f.event AS kind,
           'w:' || coalesce(f.session_id, f.anonymous_id || ':' || f.event_date) AS session, f.device,
           f.amount, f.order_id, f.channel AS touch, f._mine AS mine
    FROM keyed('kind.events') f
    WHERE NOT f._suppressed AND f.platform = 'web' AND f.event <> 'identify'
    UNION ALL
    -- An app session (the app exports no session id) ends after 30
    -- minutes without an event on the device, the Firebase and GA4 rule:
    -- a session opened from a push starts with its push_open.
    SELECT _run_id, customer_key, ts, event_date, 'app', event,
           'a:' || anonymous_id || ':' || event_date || ':'
               || CAST(sum(CAST(starts AS INTEGER)) OVER (PARTITION BY anonymous_id ORDER BY ts, event_id) AS VARCHAR),
           os, amount, order_id, CASE WHEN event = 'push_open' THEN 'push' ELSE 'app' END, mine
    FROM (
        SELECT f._run_id, f._customer_key AS customer_key, f.ts, f.event_date, f.event, f.event_id, f.anonymous_id, f.os, f.amount, f.order_id, f._mine AS mine,
               coalesce(f.ts - lag(f.ts) OVER (PARTITION BY f.anonymous_id ORDER BY f.ts, f.event_id) > INTERVAL 30 MINUTE, true) AS starts
        FROM keyed('kind.events') f
        WHERE NOT f._suppressed AND f.platform = 'app' AND f.event <> 'identify'
    )
    UNION ALL
    SELECT f._run_id, f._customer_key, f.ts, f.event_date, 'store', 'purchase',
           's:' || f.order_id, NULL, f.amount, f.order_id, 'store', f._mine
    FROM keyed('kind.orders') f
    WHERE NOT f._suppressed AND f.channel = 'store'
    UNION ALL
    -- Orders of an order export (web, app, marketplace): a purchase, unless
    -- this batch's events already hold it as a purchase event.
    SELECT f._run_id, f._customer_key, f.ts, f.event_date, CASE WHEN f.channel = 'app' THEN 'app' ELSE 'web' END, 'purchase',
           NULL, NULL, f.amount, f.order_id, NULL, f._mine
    FROM keyed('kind.orders') f
    WHERE NOT f._suppressed AND f.channel <> 'store' AND f.amount > 0
      AND f.order_id NOT IN (SELECT order_id FROM kind.events WHERE event = 'purchase' AND order_id IS NOT NULL)
    UNION ALL
    SELECT f._run_id, f._customer_key, f.ts, f.event_date, 'email', f.event, NULL, NULL, NULL, NULL,
           -- A click and the web session it opens (utm channel email) are one
           -- touch: same name, so the path collapses them.
           CASE WHEN f.event = 'click' THEN 'email' END, f._mine
    FROM keyed('kind.email_events') f
    WHERE NOT f._suppressed AND f.event IN ('open', 'click', 'unsubscribe')
    UNION ALL
    SELECT f._run_id, f._customer_key, f.ts, f.event_date, 'call_center', 'contact', NULL, NULL, NULL, NULL, 'call_center', f._mine
    FROM keyed('kind.contacts') f
    WHERE NOT f._suppressed
) a
LEFT JOIN analytics.customer_attrs ca ON ca.customer_key = a.member;
-- A customer shard keeps its customers' facts (and its share of facts
-- with no customer); unsharded, mine is always true. Views, not copies:
-- at a million customers a copy of the batch's facts is gigabytes.
CREATE OR REPLACE TEMP VIEW activity AS
SELECT * EXCLUDE (mine) FROM activity_all WHERE mine;
-- Web and app visits for the funnel. A session can hold facts of two
-- customers (A's cookie, B logged in): it belongs to its smallest member
-- or, when it has none, to its event group (the event_group macro: the
-- visit, or the app device), so exactly one shard counts it, and one
-- that the merged warehouse's route gave the whole group.
-- foreign_sessions are the ones another shard counts (unsharded, none:
-- in_shard is true and DuckDB plans an empty result).
CREATE OR REPLACE TEMP TABLE foreign_sessions AS
SELECT session, channel FROM activity_all
WHERE channel IN ('web', 'app') AND kind <> 'push_open' AND session IS NOT NULL
GROUP BY session, channel
HAVING NOT in_shard(min(member), CASE WHEN channel = 'app' THEN regexp_replace(session, ':[^:]+:[^:]+$', '') ELSE session END);
CREATE OR REPLACE TEMP VIEW session_activity AS
SELECT * EXCLUDE (mine) FROM activity_all a
WHERE channel IN ('web', 'app') AND kind <> 'push_open' AND session IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM foreign_sessions f WHERE f.session = a.session AND f.channel = a.channel);
