-- cold.attribution: conversions and revenue credited to each channel by
-- each attribution model, per month, computed from the k-anonymous
-- cold.conversion_paths (so it covers everyone, consented or not, and
-- holds no identifier). customers is a lower bound: the largest path cell
-- that credits the channel, itself at least k customers.
-- grain: one row per (month, model, channel)

-- name: create
CREATE TABLE IF NOT EXISTS cold.attribution (
    month        DATE NOT NULL,
    model        VARCHAR NOT NULL,   -- first_touch | last_touch | linear | time_decay | position_based | markov_order_1..3 | shapley_additive | shapley_conversion_rate
    channel      VARCHAR NOT NULL,
    conversions  DOUBLE NOT NULL,    -- credited conversions
    value        DOUBLE NOT NULL,    -- credited revenue
    customers    BIGINT NOT NULL     -- at least this many distinct customers behind the row
);
