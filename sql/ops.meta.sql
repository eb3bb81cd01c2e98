-- ops.meta: facts about the warehouse itself, such as the check value of
-- the pepper its tokens were made with (never the pepper), so a run with
-- another pepper stops before it writes a single mismatched token.
-- grain: one row per key

-- name: create
CREATE TABLE IF NOT EXISTS ops.meta (
    key         VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
