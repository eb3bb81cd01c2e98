-- analytics.trigger_fires: the behavioural triggers that fired on a run's
-- date, for activation to send ("trigger:<name>" segments). Evaluated at
-- $now, the end of the run's business day: only facts before it count, so
-- re-running an old date gives what that night gave. A candidate fires only
-- with a consent for its channel's purpose valid at $now, when the latest
-- opt-out record for that customer and trigger is not an opt_out, and when
-- the same trigger did not fire for them in the cooldown days before.
-- Replaced for a date as a whole, so a re-run changes nothing.
-- grain: one row per (fired_on, trigger, customer_key)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.trigger_fires (
    fired_on      DATE NOT NULL,
    "trigger"     VARCHAR NOT NULL,   -- cart_abandonment | browse_abandonment | post_contact | win_back
    customer_key  VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,   -- email | sms | push | app | ads
    purpose       VARCHAR NOT NULL,   -- why the message is sent, in words
    reason        JSON NOT NULL,      -- the facts that fired it (cart items, category and views, contact, segments)
    content       VARCHAR NOT NULL    -- what to send: cart_reminder | buying_guide | contact_follow_up | win_back
);

-- name: defs
-- One row per trigger, filled by the job from its options: the channel,
-- the consent purpose that channel needs, the stated purpose and content.
-- temp: builds trigger_candidates, trigger_defs
CREATE OR REPLACE TEMP TABLE trigger_defs (
    "trigger"  VARCHAR NOT NULL,
    channel    VARCHAR NOT NULL,
    consent    VARCHAR NOT NULL,
    purpose    VARCHAR NOT NULL,
    content    VARCHAR NOT NULL
);
CREATE OR REPLACE TEMP TABLE trigger_candidates (
    "trigger"     VARCHAR NOT NULL,
    customer_key  VARCHAR NOT NULL,
    reason        JSON NOT NULL
);

-- name: defs_insert
-- Fills the TEMP table trigger_defs (defs) from the job's options:
-- the rows placeholder stands for their value tuples (warehouse.InsertRows).
-- temp: reads trigger_defs
INSERT INTO trigger_defs ("trigger", channel, consent, purpose, content) VALUES {{rows}};

-- name: cart_abandonment
-- Add-to-carts (web or app) in [$cart_since, $now) made after the
-- customer's last purchase in any channel: nothing bought since them. One
-- candidate per customer listing those items.
-- temp: reads trigger_candidates
INSERT INTO trigger_candidates
WITH carts AS (
    SELECT 'web' AS source, event_id, customer_key, ts, product_id, category
    FROM analytics.web_events
    WHERE event = 'add_to_cart' AND ts >= CAST($cart_since AS TIMESTAMPTZ) AND ts < CAST($now AS TIMESTAMPTZ)
    UNION ALL
    SELECT 'app', event_id, customer_key, ts, product_id, category
    FROM analytics.app_events
    WHERE event = 'add_to_cart' AND ts >= CAST($cart_since AS TIMESTAMPTZ) AND ts < CAST($now AS TIMESTAMPTZ)
), last_purchase AS (
    SELECT customer_key, max(ts) AS ts FROM analytics.orders
    WHERE ts < CAST($now AS TIMESTAMPTZ) GROUP BY customer_key
), open_carts AS (
    SELECT c.* FROM carts c LEFT JOIN last_purchase p USING (customer_key)
    WHERE p.ts IS NULL OR p.ts < c.ts
)
SELECT 'cart_abandonment', customer_key,
       json_object('cart_at', strftime(max(ts), '%Y-%m-%dT%H:%M:%SZ'),
                   'items', list(json_object('added_at', strftime(ts, '%Y-%m-%dT%H:%M:%SZ'), 'source', source,
                                             'product_id', product_id, 'category', category)
                                 ORDER BY ts, source, event_id))
FROM open_carts
GROUP BY customer_key;

-- name: browse_abandonment
-- Product views (web or app) in [$browse_since, $now) after the customer's
-- last purchase, per category: $min_views or more in one category fire a
-- buying guide for it. Views before a purchase were answered by it. When
-- several categories qualify, the most viewed (then most recent) wins.
-- temp: reads trigger_candidates
INSERT INTO trigger_candidates
WITH views AS (
    SELECT event_id, customer_key, ts, product_id, category
    FROM analytics.web_events
    WHERE event = 'product_view' AND category IS NOT NULL
      AND ts >= CAST($browse_since AS TIMESTAMPTZ) AND ts < CAST($now AS TIMESTAMPTZ)
    UNION ALL
    SELECT event_id, customer_key, ts, product_id, category
    FROM analytics.app_events
    WHERE event = 'product_view' AND category IS NOT NULL
      AND ts >= CAST($browse_since AS TIMESTAMPTZ) AND ts < CAST($now AS TIMESTAMPTZ)
), last_purchase AS (
    SELECT customer_key, max(ts) AS ts FROM analytics.orders
    WHERE ts < CAST($now AS TIMESTAMPTZ) GROUP BY customer_key
), per_category AS (
    SELECT v.customer_key, v.category, count(*) AS views, min(v.ts) AS first_view, max(v.ts) AS last_view,
           list(DISTINCT v.product_id ORDER BY v.product_id) FILTER (WHERE v.product_id IS NOT NULL) AS products
    FROM views v LEFT JOIN last_purchase p USING (customer_key)
    WHERE p.ts IS NULL OR p.ts < v.ts
    GROUP BY v.customer_key, v.category
    HAVING count(*) >= CAST($min_views AS INTEGER)
)
SELECT 'browse_abandonment', customer_key,
       json_object('category', category, 'views', views,
                   'first_view_at', strftime(first_view, '%Y-%m-%dT%H:%M:%SZ'),
                   'last_view_at', strftime(last_view, '%Y-%m-%dT%H:%M:%SZ'),
                   'products', coalesce(products, []))
FROM per_category
QUALIFY row_number() OVER (PARTITION BY customer_key ORDER BY views DESC, last_view DESC, category) = 1;

-- name: post_contact
-- Unresolved call-centre contacts in [$contact_since, $now) with no
-- resolved contact of the customer after them (up to $now). One candidate
-- per customer: the latest such contact, with how many there were.
-- temp: reads trigger_candidates
INSERT INTO trigger_candidates
WITH known AS (
    SELECT * FROM analytics.contacts WHERE ts < CAST($now AS TIMESTAMPTZ)
), open_contacts AS (
    SELECT c.*, count(*) OVER (PARTITION BY c.customer_key) AS unresolved
    FROM known c
    WHERE NOT c.resolved AND c.ts >= CAST($contact_since AS TIMESTAMPTZ)
      AND NOT EXISTS (SELECT 1 FROM known r
                      WHERE r.customer_key = c.customer_key AND r.resolved AND r.ts > c.ts)
)
SELECT 'post_contact', customer_key,
       json_object('contact_id', contact_id, 'contact_at', strftime(ts, '%Y-%m-%dT%H:%M:%SZ'),
                   'contact_reason', reason, 'unresolved_contacts', unresolved)
FROM open_contacts
QUALIFY row_number() OVER (PARTITION BY customer_key ORDER BY ts DESC, contact_id DESC) = 1;

-- name: win_back
-- Customers who, on the latest segment day on or before $date, are both in
-- rfm at_risk or cant_lose_them and in a value_risk high_value_* segment.
-- One segment day for both families: never a mix of days.
-- temp: reads trigger_candidates
INSERT INTO trigger_candidates
WITH seg_day AS (
    SELECT max(computed_on) AS d FROM analytics.segment_members WHERE computed_on <= CAST($date AS DATE)
), rfm AS (
    SELECT m.customer_key, m.segment, m.computed_on
    FROM analytics.segment_members m JOIN seg_day s ON m.computed_on = s.d
    WHERE m.family = 'rfm' AND m.segment IN ('at_risk', 'cant_lose_them')
    QUALIFY row_number() OVER (PARTITION BY m.customer_key ORDER BY m.segment) = 1
), value_risk AS (
    SELECT m.customer_key, m.segment
    FROM analytics.segment_members m JOIN seg_day s ON m.computed_on = s.d
    WHERE m.family = 'value_risk' AND starts_with(m.segment, 'high_value_')
    QUALIFY row_number() OVER (PARTITION BY m.customer_key ORDER BY m.segment) = 1
)
SELECT 'win_back', r.customer_key,
       json_object('computed_on', strftime(r.computed_on, '%Y-%m-%d'),
                   'rfm_segment', r.segment, 'value_risk_segment', v.segment)
FROM rfm r JOIN value_risk v USING (customer_key);

-- name: gate
-- Every candidate with the first rule that keeps it out, NULL when it
-- fires: no consent for the channel's purpose valid at $now (valid_from <=
-- $now < valid_to); an objection (to profiling or to marketing, or a
-- contested decision: consent.objecting); the latest opt-out record before $now for this
-- customer and trigger is an opt_out (records reach the customer through
-- identity.customer_map, never through a blocked identifier; a tie at the
-- same instant counts as opt_out); the trigger fired for them in the
-- $cooldown_days days before $date.
-- temp: builds trigger_gated; reads trigger_candidates, trigger_defs
CREATE OR REPLACE TEMP TABLE trigger_gated AS
WITH latest_optout AS (
    SELECT m.customer_key, o."trigger", o.status
    FROM consent.trigger_optouts o
    JOIN identity.customer_map m ON m.id_token = o.subject_token AND NOT m.blocked
    WHERE o.ts < CAST($now AS TIMESTAMPTZ)
    QUALIFY row_number() OVER (PARTITION BY m.customer_key, o."trigger"
                               ORDER BY o.ts DESC, o.status = 'opt_out' DESC, o.optout_id DESC) = 1
)
SELECT c."trigger", c.customer_key, c.reason, d.channel, d.purpose, d.content,
       CASE
         WHEN NOT EXISTS (SELECT 1 FROM consent.intervals i
                          WHERE i.customer_key = c.customer_key AND i.purpose = d.consent
                            AND i.valid_from <= CAST($now AS TIMESTAMPTZ)
                            AND (i.valid_to IS NULL OR i.valid_to > CAST($now AS TIMESTAMPTZ)))
           THEN 'no_consent'
         WHEN EXISTS (SELECT 1 FROM consent.objecting ob WHERE ob.customer_key = c.customer_key)
           THEN 'objected'
         WHEN EXISTS (SELECT 1 FROM latest_optout o
                      WHERE o.customer_key = c.customer_key AND o."trigger" = c."trigger" AND o.status = 'opt_out')
           THEN 'opted_out'
         WHEN EXISTS (SELECT 1 FROM analytics.trigger_fires f
                      WHERE f.customer_key = c.customer_key AND f."trigger" = c."trigger"
                        AND f.fired_on < CAST($date AS DATE)
                        AND f.fired_on > CAST($date AS DATE) - CAST($cooldown_days AS INTEGER))
           THEN 'cooldown'
       END AS excluded
FROM trigger_candidates c
JOIN trigger_defs d USING ("trigger");

-- name: write
-- temp: reads trigger_gated
DELETE FROM analytics.trigger_fires WHERE fired_on = CAST($date AS DATE);
INSERT INTO analytics.trigger_fires
SELECT CAST($date AS DATE), "trigger", customer_key, channel, purpose, reason, content
FROM trigger_gated
WHERE excluded IS NULL
ORDER BY "trigger", customer_key;

-- name: gated_counts
-- What the gate decided, from the TEMP table trigger_gated (gate): the
-- candidates per trigger and exclusion reason (NULL: fired).
-- temp: reads trigger_gated
SELECT "trigger", excluded, count(*) FROM trigger_gated GROUP BY ALL;
