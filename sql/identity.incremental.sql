-- identity.incremental: which part of the identifier graph a night must
-- stitch again, and how the result replaces the old one.
--
-- Stitching decides each connected component of the graph on its own (the
-- over-merge guard counts a node's neighbours, which are in its component),
-- once the links of identifiers blocked for their use are set aside. So a
-- night restitches only the components that hold something new, and the
-- result equals a full restitch (`parcours identity rebuild --check` proves
-- it on a warehouse). The seeds are what changed since the last stitch:
-- identifiers new tonight or seen earlier than known, new links,
-- identifiers newly blocked for their use, and every identifier the guard
-- blocked, whose count of customers an erasure elsewhere may have lowered.
-- The affected set grows from the seeds along links and old customers
-- until it is closed.
-- TEMP tables: id_seeds, id_affected, id_keys (built here), read by the
-- identity job in the same session. id_nodes and id_links are built by
-- identity.identifiers.sql and identity.links.sql extract.

-- name: start
-- temp: builds id_affected, id_keys, id_seeds
CREATE OR REPLACE TEMP TABLE id_seeds (id_token VARCHAR);
CREATE OR REPLACE TEMP TABLE id_affected (id_token VARCHAR, step INTEGER);
CREATE OR REPLACE TEMP TABLE id_keys (customer_key VARCHAR);

-- name: seed_nodes
-- Runs between identity.identifiers extract and merge: identifiers new
-- tonight, or first seen earlier than known (the earliest CRM id represents
-- its customer).
-- temp: reads id_nodes, id_seeds
INSERT INTO id_seeds
SELECT n.id_token FROM id_nodes n
LEFT JOIN identity.identifiers i USING (id_token)
WHERE i.id_token IS NULL OR least(i.first_seen, n.first_seen) IS DISTINCT FROM i.first_seen;

-- name: seed_links
-- Runs between identity.links extract and merge: pairs never linked before
-- (a known pair seen again by another source changes nothing).
-- temp: reads id_links, id_seeds
INSERT INTO id_seeds
SELECT unnest([l.a_token, l.b_token]) FROM id_links l
WHERE NOT EXISTS (SELECT 1 FROM identity.links x WHERE x.a_token = l.a_token AND x.b_token = l.b_token);

-- name: close_start
-- Seeds that need no record of the night: identifiers newly blocked for
-- their use, and the identifiers the guard blocked. (Every identifier has
-- one map row after a stitch, and erasure deletes both: the mode section
-- restitches whole when their counts differ.)
-- temp: reads id_affected, id_seeds
INSERT INTO id_seeds
SELECT u.id_token FROM identity.usage_blocked u JOIN identity.customer_map m USING (id_token) WHERE NOT m.blocked
UNION ALL SELECT id_token FROM identity.customer_map WHERE blocked AND id_token NOT IN (SELECT id_token FROM identity.usage_blocked);
INSERT INTO id_affected SELECT DISTINCT id_token, 0 FROM id_seeds;

-- name: close_step
-- One step outward from the identifiers added at step $step: along links
-- (not those of identifiers blocked for their use, which stitching drops)
-- and to every identifier of their old customer. Run until it adds none.
-- temp: reads id_affected
INSERT INTO id_affected
SELECT DISTINCT t, $step + 1 FROM (
    SELECT l.b_token AS t FROM identity.links l JOIN id_affected f ON f.id_token = l.a_token AND f.step = $step
    WHERE l.a_token NOT IN (SELECT id_token FROM identity.usage_blocked) AND l.b_token NOT IN (SELECT id_token FROM identity.usage_blocked)
    UNION ALL
    SELECT l.a_token FROM identity.links l JOIN id_affected f ON f.id_token = l.b_token AND f.step = $step
    WHERE l.a_token NOT IN (SELECT id_token FROM identity.usage_blocked) AND l.b_token NOT IN (SELECT id_token FROM identity.usage_blocked)
    UNION ALL
    SELECT o.id_token FROM identity.customer_map m JOIN id_affected f ON f.id_token = m.id_token AND f.step = $step
    JOIN identity.customer_map o ON o.customer_key = m.customer_key
)
WHERE t NOT IN (SELECT id_token FROM id_affected);

-- name: nodes
-- The identifiers to stitch: all of them ($all), or the affected ones.
-- temp: reads id_affected
SELECT id_token, id_type, coalesce(epoch_us(first_seen), 0), coalesce(label, '')
FROM identity.identifiers
WHERE $all OR id_token IN (SELECT id_token FROM id_affected)
ORDER BY id_token;

-- name: links
-- temp: reads id_affected
SELECT a_token, b_token, source, coalesce(evidence, ''), first_seen
FROM identity.links
WHERE $all OR (a_token IN (SELECT id_token FROM id_affected) AND b_token IN (SELECT id_token FROM id_affected))
ORDER BY a_token, b_token, source;

-- name: usage_blocked
-- temp: reads id_affected
SELECT id_token, max_per_day FROM identity.usage_blocked
WHERE $all OR id_token IN (SELECT id_token FROM id_affected);

-- name: previous_keys
-- The customer each CRM id had before tonight, for the merge audit.
-- temp: reads id_affected
SELECT id_token, customer_key FROM identity.customer_map
WHERE id_type = 'customer_id' AND ($all OR id_token IN (SELECT id_token FROM id_affected));

-- name: unaffected
-- The map rows a night would leave as they are: with the affected part
-- restitched, what `identity rebuild --check` compares with a stitch of
-- the whole graph.
-- temp: reads id_affected
SELECT id_token, customer_key, blocked FROM identity.customer_map
WHERE id_token NOT IN (SELECT id_token FROM id_affected);

-- name: compare
-- How many identifiers the new stitch (customer_map_next) moves to another
-- customer, blocks or unblocks, adds or drops, within what it covers.
-- temp: reads id_affected
WITH old AS (
    SELECT id_token, customer_key, blocked FROM identity.customer_map
    WHERE $all OR id_token IN (SELECT id_token FROM id_affected)
)
SELECT count(*) FROM old o FULL JOIN identity.customer_map_next n USING (id_token)
WHERE o.customer_key IS DISTINCT FROM n.customer_key OR o.blocked IS DISTINCT FROM n.blocked;

-- name: swap
-- The new stitch replaces what it covers: the map rows, the customers whose
-- identifiers moved (before and after) and the blocked identifiers.
-- temp: reads id_affected, id_keys
INSERT INTO id_keys
SELECT customer_key FROM identity.customer_map WHERE NOT $all AND id_token IN (SELECT id_token FROM id_affected)
UNION SELECT customer_key FROM identity.customer_map_next WHERE NOT $all;
DELETE FROM identity.customer_map WHERE $all OR id_token IN (SELECT id_token FROM id_affected);
INSERT INTO identity.customer_map SELECT * FROM identity.customer_map_next ORDER BY id_token;
DELETE FROM identity.customer_map_next;
DELETE FROM identity.blocked WHERE $all OR id_token IN (SELECT id_token FROM id_affected);

-- name: totals
SELECT (SELECT count(*) FROM identity.customers), (SELECT count(*) FROM identity.customers WHERE known),
       (SELECT count(*) FROM identity.blocked);

-- name: stitched
-- Record the guard limits the map was stitched with (other limits need a
-- full restitch), untouched when they are the same.
DELETE FROM ops.meta WHERE key = 'identity_stitch' AND value <> $value;
INSERT INTO ops.meta (key, value)
SELECT 'identity_stitch', $value WHERE NOT EXISTS (SELECT 1 FROM ops.meta WHERE key = 'identity_stitch');

-- name: mode
-- A full stitch when the map is empty, was stitched under other limits, or
-- does not give every identifier one customer (a run that stopped between
-- merging identifiers and replacing the map).
SELECT NOT EXISTS (SELECT 1 FROM identity.customer_map)
    OR coalesce((SELECT value FROM ops.meta WHERE key = 'identity_stitch'), '') <> $value
    OR (SELECT count(*) FROM identity.identifiers) <> (SELECT count(*) FROM identity.customer_map);
