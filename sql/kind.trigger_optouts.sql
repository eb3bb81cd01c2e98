-- kind trigger_optouts: Per-trigger opt-outs and opt-ins: landing.<source> of every
-- trigger_optouts source.
-- grain: one row per optout_id

-- name: columns
-- The landing table of a trigger_optouts source (ingest adds the lineage columns).
optout_id    VARCHAR,
ts           TIMESTAMPTZ,
customer_id  VARCHAR,
"trigger"    VARCHAR,
status       VARCHAR

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT optout_id, ts, customer_id, "trigger", status, COLUMNS('^_')
FROM typed;
