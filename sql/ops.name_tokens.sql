-- ops.name_tokens: on the merged warehouse of a sharded night, the tokens
-- of every shard's vault names (handoff.name_tokens), so the privacy audit
-- can check cold values against names it never sees. Emptied at the end
-- of the merge; always empty on a single node (its audit reads the vault).
-- grain: one row per distinct name token

-- name: create
CREATE TABLE IF NOT EXISTS ops.name_tokens (
    token  VARCHAR NOT NULL
);
