-- merge.attach: how `parcours merge` (cmd/parcours attachShards) attaches
-- the customer shards' hot stores to the merged warehouse, as {{alias}}
-- (shard0, shard1, ..., quoted by the command), and checks that each is
-- the shard it is given as and shares the merged warehouse's pepper.

-- name: pepper_check
-- The merged warehouse's pepper check value, which every shard must share.
SELECT value FROM ops.meta WHERE key = 'pepper_check';

-- name: attach
-- Attaches the hot store at {{path}} (a quoted file path).
ATTACH {{path}} AS {{alias}};

-- name: shard_meta
-- An attached shard's role ('i/n') and pepper check value ('' when unset).
SELECT coalesce(max(value) FILTER (WHERE key = 'role'), ''),
       coalesce(max(value) FILTER (WHERE key = 'pepper_check'), '') FROM {{alias}}.ops.meta;

-- name: detach
-- Detaches a shard when the merge ends (or fails).
DETACH {{alias}};
