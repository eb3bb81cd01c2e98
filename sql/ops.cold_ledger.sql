-- ops.cold_ledger: which customers a cold cell has already counted, so that
-- distinct-customer counts stay exact when a cell's facts arrive over
-- several nightly runs (late events, months). Pseudonymous and short-lived:
-- a row is dropped once its cell can no longer change (window_end older
-- than late_days, or lookback for paths), and with its customer on erasure.
-- ops.cold_cohorts keeps each customer's acquisition month and channel
-- (retention, new customers, CAC).
-- grain: one row per (cold_table, cell, member)

-- name: create
CREATE TABLE IF NOT EXISTS ops.cold_ledger (
    cold_table  VARCHAR NOT NULL,
    cell        VARCHAR NOT NULL,  -- the cell's dimensions joined by '|'
    member      VARCHAR NOT NULL,  -- customer_key
    window_end  DATE NOT NULL,     -- last day the cell covers
    batch       VARCHAR NOT NULL   -- ingest run whose facts first counted the member
);
CREATE TABLE IF NOT EXISTS ops.cold_cohorts (
    member        VARCHAR NOT NULL,
    cohort_month  DATE NOT NULL,   -- month of the first purchase seen
    batch         VARCHAR NOT NULL,
    first_day     DATE,            -- day of that purchase
    acquired_via  VARCHAR          -- first touch in the lookback window before it (new customers per channel, CAC)
);
CREATE TABLE IF NOT EXISTS ops.cold_touches (
    member   VARCHAR NOT NULL,
    ts       TIMESTAMPTZ NOT NULL,
    touch    VARCHAR NOT NULL,     -- channel of the touchpoint, or '#purchase': a purchase's time
    batch    VARCHAR NOT NULL
);

-- name: prune
DELETE FROM ops.cold_ledger
WHERE window_end < CAST($date AS DATE) - CAST($late_days AS INTEGER);
-- Touches and purchase times stay until their month's journeys are closed
-- (lookback days after the month) and late_days more for re-runs: those
-- whose month ended before $date - lookback - late_days go, that is those
-- before the start of that day's month. (Written as one instant to
-- compare with, not last_day(ts) per touch: 0.5 s of the 1M steady night
-- for 2.4M touches, most nights deleting none.)
DELETE FROM ops.cold_touches
WHERE ts < CAST(date_trunc('month', CAST($date AS DATE) - CAST($lookback_days + $late_days AS INTEGER)) AS TIMESTAMPTZ);
