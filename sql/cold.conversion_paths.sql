-- cold.conversion_paths: per month, the channel sequences that led to a
-- purchase and those that did not, in the path-aggregate shape of the
-- ChannelAttribution package (path, conversions, value, nulls): the input
-- of attribution. Touchpoints: a web session (by its landing channel:
-- paid_search, email, direct...), an app session (push when a push opened
-- it), an email click (channel email, like the session it opens), a store
-- visit (its receipt), a call. A converting path is the customer's touches
-- in the lookback window up to the purchase, oldest first: the visit in
-- which it happened is its last touch, a web or app session as a store
-- visit (a walk-in with nothing before is the path 'store'); a
-- non-converting path is a customer's touches of a month that no purchase
-- within the lookback window followed, counted once the month is closed
-- (lookback days after its end). Paths collapse repeats in a row and keep
-- the last max_touches (macro touch_path). Touches and purchase times are
-- buffered pseudonymously in ops.cold_touches only until their month can
-- no longer change.
-- k rule: a path under k customers is not published on its own; all such
-- paths of a month are pooled in one row, path '(other)', published when
-- its distinct customers reach k.
-- grain: one row per (month, path)

-- name: create
CREATE TABLE IF NOT EXISTS ops.cold_contrib_conversion_paths (
    batch        VARCHAR NOT NULL,
    month        DATE NOT NULL,
    path         VARCHAR NOT NULL,  -- '*': the month as a whole (distinct customers of every path)
    customers    BIGINT NOT NULL,
    conversions  BIGINT NOT NULL,
    value        DECIMAL(18,2) NOT NULL,
    nulls        BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ops.cold_closed_months (
    cold_table  VARCHAR NOT NULL,
    month       DATE NOT NULL,
    batch       VARCHAR NOT NULL    -- the batch whose run closed it
);
CREATE TABLE IF NOT EXISTS cold.conversion_paths (
    month        DATE NOT NULL,
    path         VARCHAR NOT NULL,  -- 'paid_search > email > store'; '(no touch)': conversions without any; '(other)': pooled paths under k
    touches      INTEGER NOT NULL,  -- 0 for '(other)' and '(no touch)'
    customers    BIGINT NOT NULL,
    conversions  BIGINT NOT NULL,
    value        DECIMAL(18,2) NOT NULL,
    nulls        BIGINT NOT NULL    -- journeys on this path that did not convert
);
-- Per month and channel, the distinct converting customers whose path
-- holds the channel ('(no touch)': conversions without any), counted once
-- over batches through the ledger (cells 'month|#converting|channel').
CREATE TABLE IF NOT EXISTS ops.cold_contrib_path_channels (
    batch        VARCHAR NOT NULL,
    month        DATE NOT NULL,
    channel      VARCHAR NOT NULL,
    customers    BIGINT NOT NULL
);

-- name: contribute
-- Buffer this batch's touches (one per session) and purchase times ('#purchase').
-- A session is one touch, of the channel it started with: a web visit's
-- later pages carry no campaign or referrer and read as 'direct', an app
-- session opened from a push goes on in the app, but the visit came from
-- where it began (the session source of every web analytics tool).
-- temp: builds journey_channels, journeys; reads batches
DELETE FROM ops.cold_touches WHERE batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_touches
SELECT member, min(ts), arg_min(touch, ts), min(batch)
FROM activity
WHERE member IS NOT NULL AND touch IS NOT NULL
GROUP BY member, coalesce(session, CAST(ts AS VARCHAR));
INSERT INTO ops.cold_touches
SELECT member, min(ts), '#purchase', min(batch)
FROM activity WHERE kind = 'purchase' AND member IS NOT NULL AND order_id IS NOT NULL
GROUP BY member, order_id;
CREATE OR REPLACE TEMP TABLE journeys AS
WITH conv AS (
    SELECT min(batch) AS batch, member, order_id, min(ts) AS ts, arg_min(amount, ts) AS amount
    FROM activity WHERE kind = 'purchase' AND member IS NOT NULL AND order_id IS NOT NULL
    GROUP BY member, order_id
), conv_days AS (
    -- Each conversion meets only the touches of its lookback days: an
    -- equi-join on (member, day) instead of every touch of the member.
    SELECT c.*, CAST(c.ts AS DATE) - CAST(d AS INTEGER) AS day
    FROM conv c, range(0, CAST($lookback_days AS INTEGER) + 1) r(d)
), p AS (
    -- A conversion without any touch in its window (an order export's
    -- order with no session) keeps its journey, as path '(no touch)':
    -- attribution reports it as unattributed.
    SELECT c.batch, c.member, c.order_id, c.ts, c.amount,
           list(t.touch ORDER BY t.ts, t.touch) FILTER (WHERE t.touch IS NOT NULL) AS touches
    FROM conv_days c
    LEFT JOIN ops.cold_touches t ON t.member = c.member AND CAST(t.ts AS DATE) = c.day
     AND t.touch <> '#purchase' AND t.ts <= c.ts AND t.ts > c.ts - to_days(CAST($lookback_days AS INTEGER))
    GROUP BY c.batch, c.member, c.order_id, c.ts, c.amount
)
SELECT batch, member, CAST(date_trunc('month', ts) AS DATE) AS month, amount, 1 AS converted,
       CASE WHEN len(coalesce(touches, [])) = 0 THEN '(no touch)' ELSE touch_path(touches, $max_touches) END AS path
FROM p;
-- Months whose journeys can no longer be claimed by a purchase close in
-- this run (once: a month closed by an earlier batch stays closed).
DELETE FROM ops.cold_closed_months WHERE cold_table = 'conversion_paths' AND batch IN (SELECT batch FROM batches);
-- (The touches' months first, then the test per month: per touch it took
-- 0.8 s of 2.4M touches at a million customers, 0.2 s this way.)
INSERT INTO ops.cold_closed_months
SELECT 'conversion_paths', month, (SELECT max(batch) FROM batches)
FROM (SELECT DISTINCT CAST(date_trunc('month', ts) AS DATE) AS month FROM ops.cold_touches WHERE touch <> '#purchase')
WHERE EXISTS (SELECT 1 FROM batches)
  AND last_day(month) + CAST($lookback_days AS INTEGER) <= CAST($date AS DATE)
  AND month NOT IN (SELECT month FROM ops.cold_closed_months WHERE cold_table = 'conversion_paths');
INSERT INTO journeys
WITH closing AS (
    SELECT month, batch FROM ops.cold_closed_months
    WHERE cold_table = 'conversion_paths' AND batch IN (SELECT batch FROM batches)
), t AS (
    SELECT c.batch, t.member, t.ts, t.touch, c.month
    FROM ops.cold_touches t JOIN closing c ON CAST(date_trunc('month', t.ts) AS DATE) = c.month
    WHERE t.touch <> '#purchase'
), claimed AS (
    -- A touch followed within the lookback window by a purchase (or
    -- making one: a receipt) is on a converting path.
    SELECT DISTINCT t.member, t.ts, t.touch
    FROM t JOIN ops.cold_touches p ON p.member = t.member AND p.touch = '#purchase'
     AND p.ts >= t.ts AND p.ts < t.ts + to_days(CAST($lookback_days AS INTEGER))
)
SELECT any_value(batch), member, month, NULL, 0, touch_path(list(touch ORDER BY ts, touch), $max_touches)
FROM t ANTI JOIN claimed c USING (member, ts, touch)
GROUP BY member, month;
DELETE FROM ops.cold_contrib_conversion_paths WHERE batch IN (SELECT batch FROM batches);
DELETE FROM ops.cold_ledger WHERE cold_table = 'conversion_paths' AND batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_ledger
SELECT 'conversion_paths', a.cell, a.member, a.window_end, a.batch
FROM (SELECT cell, member, max(last_day(month)) + CAST($lookback_days AS INTEGER) AS window_end, min(batch) AS batch
      FROM (SELECT concat_ws('|', month, path) AS cell, member, month, batch FROM journeys
            UNION ALL
            SELECT concat_ws('|', month, '*'), member, month, batch FROM journeys)
      GROUP BY 1, 2) a
WHERE NOT EXISTS (SELECT 1 FROM ops.cold_ledger l
                  WHERE l.cold_table = 'conversion_paths' AND l.cell = a.cell AND l.member = a.member);
-- Distinct converting customers per month and channel of their paths:
-- cold.attribution publishes a channel's credit only when they reach k.
CREATE OR REPLACE TEMP TABLE journey_channels AS
SELECT DISTINCT batch, member, month, ch AS channel, concat_ws('|', month, '#converting', ch) AS cell
FROM (SELECT batch, member, month, unnest(string_split(path, ' > ')) AS ch FROM journeys WHERE converted = 1);
INSERT INTO ops.cold_ledger
SELECT 'conversion_paths', a.cell, a.member, a.window_end, a.batch
FROM (SELECT cell, member, max(last_day(month)) + CAST($lookback_days AS INTEGER) AS window_end, min(batch) AS batch
      FROM journey_channels GROUP BY 1, 2) a
WHERE NOT EXISTS (SELECT 1 FROM ops.cold_ledger l
                  WHERE l.cold_table = 'conversion_paths' AND l.cell = a.cell AND l.member = a.member);
DELETE FROM ops.cold_contrib_path_channels WHERE batch IN (SELECT batch FROM batches);
INSERT INTO ops.cold_contrib_path_channels
SELECT l.batch, c.month, c.channel, count(*)
FROM ops.cold_ledger l
JOIN (SELECT DISTINCT month, channel, cell FROM journey_channels) c ON c.cell = l.cell
WHERE l.cold_table = 'conversion_paths' AND l.batch IN (SELECT batch FROM batches)
GROUP BY ALL;
INSERT INTO ops.cold_contrib_conversion_paths
WITH fresh AS (
    SELECT batch, cell, count(*) AS customers FROM ops.cold_ledger
    WHERE cold_table = 'conversion_paths' AND batch IN (SELECT batch FROM batches) GROUP BY ALL
), agg AS (
    SELECT batch, month, path, concat_ws('|', month, path) AS cell,
           sum(converted) AS conversions, coalesce(sum(amount), 0) AS value, count(*) - sum(converted) AS nulls
    FROM journeys GROUP BY GROUPING SETS ((batch, month, path), (batch, month))
)
SELECT a.batch, a.month, coalesce(a.path, '*'), coalesce(f.customers, 0), a.conversions, a.value, a.nulls
FROM agg a LEFT JOIN fresh f ON f.batch = a.batch AND f.cell = concat_ws('|', a.month, coalesce(a.path, '*'));

-- name: publish
-- temp: builds cells, pooled, pooled_before, pooled_exact
CREATE OR REPLACE TEMP TABLE cells AS
SELECT month, path, sum(customers) AS customers, sum(conversions) AS conversions, sum(value) AS value,
       sum(nulls) AS nulls
FROM ops.cold_contrib_conversion_paths GROUP BY ALL;
-- Distinct customers of the pooled paths: exact from the ledger while the
-- month's cells can still change (the ledger keeps all of a month's
-- members until then), afterwards the figure published last time; a
-- lower bound (month's customers - published paths' customers) otherwise.
CREATE OR REPLACE TEMP TABLE pooled_exact AS
SELECT c.month, count(DISTINCT l.member) AS customers
FROM cells c JOIN ops.cold_ledger l ON l.cold_table = 'conversion_paths' AND l.cell = concat_ws('|', c.month, c.path)
WHERE c.path <> '*' AND c.customers < $k
GROUP BY c.month;
CREATE OR REPLACE TEMP TABLE pooled_before AS
SELECT month, customers FROM cold.conversion_paths WHERE path = '(other)';
CREATE OR REPLACE TEMP TABLE pooled AS
SELECT m.month,
       coalesce(any_value(e.customers), any_value(b.customers),
                m.customers - coalesce(sum(c.customers) FILTER (WHERE c.customers >= $k), 0)) AS customers,
       coalesce(sum(c.conversions) FILTER (WHERE c.customers < $k), 0) AS conversions,
       coalesce(sum(c.value) FILTER (WHERE c.customers < $k), 0) AS value,
       coalesce(sum(c.nulls) FILTER (WHERE c.customers < $k), 0) AS nulls,
       count(c.path) FILTER (WHERE c.customers < $k) AS cells
FROM cells m
LEFT JOIN cells c ON c.month = m.month AND c.path <> '*'
LEFT JOIN pooled_exact e ON e.month = m.month
LEFT JOIN pooled_before b ON b.month = m.month
WHERE m.path = '*'
GROUP BY m.month, m.customers;
DELETE FROM cold.conversion_paths;
INSERT INTO cold.conversion_paths
SELECT month, path, CASE WHEN path = '(no touch)' THEN 0 ELSE len(string_split(path, ' > ')) END,
       customers, conversions, value, nulls
FROM cells WHERE path <> '*' AND customers >= $k
UNION ALL
SELECT month, '(other)', 0, customers, conversions, value, nulls
FROM pooled WHERE cells > 0 AND customers >= $k
ORDER BY 1, 5 DESC, 7 DESC, 2;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'conversion_paths';
INSERT INTO cold.suppressed_cells
SELECT 'conversion_paths', $k, (SELECT count(*) FROM cold.conversion_paths),
       (SELECT coalesce(sum(cells), 0) FROM pooled WHERE cells > 0 AND customers >= $k),
       (SELECT coalesce(sum(cells), 0) FROM pooled WHERE cells > 0 AND customers < $k), CAST($date AS DATE);
