-- cold.funnel_daily: sessions reaching each funnel step (visit, product
-- view, cart, checkout, purchase) per day, channel (web, app) and device
-- (web: desktop/mobile/tablet; app: ios/android). A web session is its
-- session id; an app session is a device's day. Device is not a customer
-- attribute (one person uses several), so cells under k customers are
-- suppressed rather than rolled up.
-- grain: one row per (day, channel, device)

-- name: create
CREATE TABLE IF NOT EXISTS ops.cold_contrib_funnel_daily (
    batch          VARCHAR NOT NULL,
    day            DATE NOT NULL,
    channel        VARCHAR NOT NULL,
    device         VARCHAR NOT NULL,
    customers      BIGINT NOT NULL,
    visits         BIGINT NOT NULL,
    product_views  BIGINT NOT NULL,
    carts          BIGINT NOT NULL,
    checkouts      BIGINT NOT NULL,
    purchases      BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS cold.funnel_daily (
    day            DATE NOT NULL,
    channel        VARCHAR NOT NULL,
    device         VARCHAR NOT NULL,
    customers      BIGINT NOT NULL,
    visits         BIGINT NOT NULL,   -- sessions
    product_views  BIGINT NOT NULL,   -- sessions with a product view
    carts          BIGINT NOT NULL,   -- ... with an add to cart
    checkouts      BIGINT NOT NULL,
    purchases      BIGINT NOT NULL
);

-- name: contribute
-- temp: builds funnel_sessions; reads batches
CREATE OR REPLACE TEMP TABLE funnel_sessions AS
SELECT min(batch) AS batch, session, min(member) AS member, min(day) AS day, channel,
       coalesce(arg_min(device, ts), 'unknown') AS device,
       bool_or(kind = 'product_view') AS pv, bool_or(kind = 'add_to_cart') AS cart,
       bool_or(kind = 'checkout_start') AS co, bool_or(kind = 'purchase') AS buy
FROM session_activity
GROUP BY session, channel;
DELETE FROM ops.cold_contrib_funnel_daily WHERE batch IN (SELECT batch FROM batches);
DELETE FROM ops.cold_ledger WHERE cold_table = 'funnel_daily' AND batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_ledger
SELECT 'funnel_daily', a.cell, a.member, a.window_end, a.batch
FROM (SELECT concat_ws('|', day, channel, device) AS cell, member, max(day) AS window_end, min(batch) AS batch
      FROM funnel_sessions WHERE member IS NOT NULL GROUP BY 1, 2) a
WHERE NOT EXISTS (SELECT 1 FROM ops.cold_ledger l
                  WHERE l.cold_table = 'funnel_daily' AND l.cell = a.cell AND l.member = a.member);
INSERT INTO ops.cold_contrib_funnel_daily
WITH fresh AS (
    SELECT batch, cell, count(*) AS customers FROM ops.cold_ledger
    WHERE cold_table = 'funnel_daily' AND batch IN (SELECT batch FROM batches) GROUP BY ALL
), agg AS (
    SELECT batch, day, channel, device, concat_ws('|', day, channel, device) AS cell,
           count(*) AS visits, count(*) FILTER (WHERE pv) AS pv, count(*) FILTER (WHERE cart) AS cart,
           count(*) FILTER (WHERE co) AS co, count(*) FILTER (WHERE buy) AS buy
    FROM funnel_sessions GROUP BY ALL
)
SELECT a.batch, a.day, a.channel, a.device, coalesce(f.customers, 0), a.visits, a.pv, a.cart, a.co, a.buy
FROM agg a LEFT JOIN fresh f USING (batch, cell);

-- name: publish
-- temp: builds cells
CREATE OR REPLACE TEMP TABLE cells AS
SELECT day, channel, device, sum(customers) AS customers, sum(visits) AS visits, sum(product_views) AS product_views,
       sum(carts) AS carts, sum(checkouts) AS checkouts, sum(purchases) AS purchases
FROM ops.cold_contrib_funnel_daily GROUP BY ALL;
DELETE FROM cold.funnel_daily;
INSERT INTO cold.funnel_daily
SELECT * FROM cells WHERE customers >= $k ORDER BY day, channel, device;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'funnel_daily';
INSERT INTO cold.suppressed_cells
SELECT 'funnel_daily', $k, (SELECT count(*) FROM cold.funnel_daily), 0,
       (SELECT count(*) FROM cells WHERE customers < $k), CAST($date AS DATE);
