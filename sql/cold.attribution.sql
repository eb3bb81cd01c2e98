-- cold.attribution: conversions and revenue credited to each channel by
-- each attribution model, per month. The models run on the complete path
-- counts of everyone, consented or not, rare paths included (the summed
-- ops.cold_contrib_conversion_paths, which hold no identifier), not on the
-- k-anonymous cold.conversion_paths, whose pooled '(other)' paths have no
-- sequence. Only per-channel credits are published, each backed by at
-- least k distinct converting customers whose paths hold the channel;
-- channels under k are summed into one 'other channels' row (published
-- when its own distinct converting customers reach k, withheld and
-- counted in cold.suppressed_cells otherwise). '(unattributed)' holds the
-- conversions without any touch in their lookback window.
-- grain: one row per (month, model, channel)

-- name: create
CREATE TABLE IF NOT EXISTS cold.attribution (
    month        DATE NOT NULL,
    model        VARCHAR NOT NULL,   -- first_touch | last_touch | linear | time_decay | position_based | markov_order_1..3 | shapley_additive | touch_hazard
    channel      VARCHAR NOT NULL,   -- a channel, 'other channels' (those under k) or '(unattributed)' (no touch)
    conversions  DOUBLE NOT NULL,    -- credited conversions
    value        DOUBLE NOT NULL,    -- credited revenue
    customers    BIGINT NOT NULL     -- distinct converting customers whose paths hold the channel (at least k)
);

-- name: paths
-- Every path of every month, the rare ones included: the input of the models.
SELECT month, path, CAST(sum(conversions) AS DOUBLE), CAST(sum(value) AS DOUBLE), CAST(sum(nulls) AS DOUBLE)
FROM ops.cold_contrib_conversion_paths
WHERE path <> '*'
GROUP BY month, path
ORDER BY month, path;

-- name: converters
-- Distinct converting customers per month and channel on their paths.
SELECT month, channel, sum(customers)
FROM ops.cold_contrib_path_channels
GROUP BY month, channel
ORDER BY month, channel;

-- name: floors
-- Months contributed before converting customers were counted (warehouses
-- from before 2026-12) have no converters: there, as before, the largest
-- published path cell holding a channel (itself at least k customers)
-- stands for its customers.
SELECT month, ch, max(customers)
FROM (SELECT month, customers, unnest(string_split(path, ' > ')) AS ch
      FROM cold.conversion_paths WHERE path NOT IN ('(other)', '(no touch)'))
GROUP BY month, ch
ORDER BY month, ch;

-- name: pooled_converters
-- Distinct converting customers of a month's channels under k, together:
-- exact while the ledger holds the month past tonight's prune (rows the
-- cold job prunes tonight are left out even where it has not pruned them
-- yet, a shard's hand-off, so sharded and single-node runs agree); no row
-- once pruned, when the figure published before stands.
SELECT count(DISTINCT member), count(*)
FROM ops.cold_ledger
WHERE cold_table = 'conversion_paths'
  AND window_end >= CAST($date AS DATE) - CAST($late_days AS INTEGER)
  AND cell IN (SELECT concat_ws('|', CAST($month AS DATE), '#converting', c) FROM unnest(CAST($channels AS VARCHAR[])) t(c));

-- name: pooled_before
-- The 'other channels' customers each month published last time.
SELECT month, max(customers) FROM cold.attribution WHERE channel = 'other channels' GROUP BY month;

-- name: clear
DELETE FROM cold.attribution;
DELETE FROM cold.suppressed_cells WHERE cold_table = 'attribution';

-- name: suppressed
INSERT INTO cold.suppressed_cells
SELECT 'attribution', $k, (SELECT count(*) FROM cold.attribution), $rolled, $suppressed, CAST($date AS DATE);

-- name: insert
-- The head of the insert of the credits the job computed in Go: the
-- job appends the rows as value tuples (warehouse.InsertRows).
INSERT INTO cold.attribution VALUES

-- name: report_complete_month
-- The report's month: the latest that ended on or before $day.
SELECT max(month) FROM cold.attribution WHERE month + INTERVAL 1 MONTH <= CAST($day AS DATE) + INTERVAL 1 DAY;

-- name: report_latest_month
-- The report's month when none is complete yet: the latest started on or
-- before $day.
SELECT max(month) FROM cold.attribution WHERE month <= CAST($day AS DATE);

-- name: report_credits
-- Credited conversions per model and channel, summed over the months
-- $from to $to (month starts), for the report.
SELECT model, channel, sum(conversions) FROM cold.attribution
WHERE month BETWEEN CAST($from AS DATE) AND CAST($to AS DATE) GROUP BY ALL;
