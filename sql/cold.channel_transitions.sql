-- cold.channel_transitions: how journeys move between channels, per month:
-- from 'start' to the first touch, touch to touch, and from the last touch
-- to 'conversion' or 'no_conversion', counted over the published
-- (k-anonymous) cold.conversion_paths weighted by their journeys. The
-- pooled '(other)' paths have no sequence and are left out. customers is
-- the largest path behind the row.
-- grain: one row per (month, from_channel, to_channel)

-- name: create
CREATE TABLE IF NOT EXISTS cold.channel_transitions (
    month         DATE NOT NULL,
    from_channel  VARCHAR NOT NULL,   -- 'start' or a touch channel
    to_channel    VARCHAR NOT NULL,   -- a touch channel, 'conversion' or 'no_conversion'
    transitions   BIGINT NOT NULL,
    share         DOUBLE,             -- of from_channel's outgoing transitions that month
    customers     BIGINT NOT NULL
);

-- name: publish
DELETE FROM cold.channel_transitions;
INSERT INTO cold.channel_transitions
WITH p AS (
    SELECT month, string_split(path, ' > ') AS ch, conversions, nulls, customers
    FROM cold.conversion_paths WHERE path <> '(other)'
), steps AS (
    SELECT month, customers, conversions + nulls AS n,
           unnest(list_prepend('start', list_slice(ch, 1, len(ch) - 1))) AS from_channel, unnest(ch) AS to_channel
    FROM p
    UNION ALL
    SELECT month, customers, conversions, ch[-1], 'conversion' FROM p WHERE conversions > 0
    UNION ALL
    SELECT month, customers, nulls, ch[-1], 'no_conversion' FROM p WHERE nulls > 0
), agg AS (
    SELECT month, from_channel, to_channel, sum(n) AS transitions, max(customers) AS customers
    FROM steps GROUP BY ALL
)
SELECT month, from_channel, to_channel, transitions,
       transitions / sum(transitions) OVER (PARTITION BY month, from_channel), customers
FROM agg
WHERE customers >= $k AND transitions > 0
ORDER BY month, from_channel, transitions DESC;

-- name: report_complete_month
-- The report's month: the latest that ended on or before $day.
SELECT max(month) FROM cold.channel_transitions WHERE month + INTERVAL 1 MONTH <= CAST($day AS DATE) + INTERVAL 1 DAY;

-- name: report_latest_month
-- The report's month when none is complete yet: the latest started on or
-- before $day.
SELECT max(month) FROM cold.channel_transitions WHERE month <= CAST($day AS DATE);

-- name: report_transitions
-- A $month's transitions, for the report's matrix.
SELECT from_channel, to_channel, transitions, share FROM cold.channel_transitions
WHERE month = CAST($month AS DATE) ORDER BY from_channel, to_channel;
