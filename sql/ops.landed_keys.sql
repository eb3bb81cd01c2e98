-- ops.landed_keys: the key of every event row ever landed, as a salted
-- 128-bit hash (landed_key macro, salt derived from the pepper), so that
-- re-delivered rows are recognised after landing has been emptied. Holds
-- no identifier in clear.
-- grain: one row per (source, key_hash)

-- name: create
CREATE TABLE IF NOT EXISTS ops.landed_keys (
    source     VARCHAR NOT NULL,
    key_hash   UHUGEINT NOT NULL,
    load_date  DATE,    -- folder date of the first delivery
    file       VARCHAR  -- the file that delivered it first
);
