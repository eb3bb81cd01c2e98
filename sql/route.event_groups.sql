-- route.*: how the merged warehouse of a sharded night divides the night's
-- facts among the customer shards (`parcours merge --stage route`,
-- orchestration/SHARDS.md). The merged warehouse ingests and stitches the
-- whole input once; each shard's ingest then copies from it only the rows
-- it needs: the facts of its customers (a fact's customer as the split
-- resolves it, landing.fact_keys.sql), its share of the facts without one,
-- and every event of a web visit or app device that holds one of those
-- (the split counts a visit, and cuts app sessions, over all its events),
-- with the purchase events of its orders (an order export row counts
-- unless an event already holds its purchase).
-- Emptied at the end of the night's publish stage, with landing.
-- grain: combo_keys one row per distinct identifier list, event_groups one
-- row per event group (event_group macro)

-- name: create
CREATE TABLE IF NOT EXISTS route.meta (
    key    VARCHAR NOT NULL,  -- 'day': the logical date routed, 'shards': into how many shards
    value  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS route.combo_keys (
    ids           STRUCT("type" VARCHAR, "value" VARCHAR)[],  -- a fact's identifiers
    customer_key  VARCHAR                                     -- the customer they name (NULL: none)
);
CREATE TABLE IF NOT EXISTS route.event_groups (
    grp     VARCHAR NOT NULL,  -- event_group(...)
    shards  UBIGINT NOT NULL   -- bit i set: shard i holds the group
);

-- name: build
-- Runs on the connection where landing.fact_keys.sql build made combo_keys.
-- temp: builds route_order_shards; reads combo_keys
DELETE FROM route.meta;
DELETE FROM route.combo_keys;
DELETE FROM route.event_groups;
INSERT INTO route.combo_keys SELECT ids, customer_key FROM combo_keys;
-- The shards of every order id (an order is a fact of the orders kind).
CREATE OR REPLACE TEMP TABLE route_order_shards AS
SELECT o.order_id, bit_or(CAST(1 AS UBIGINT) << shard_of(c.customer_key, o._source || ':' || o._fact, CAST($shards AS UBIGINT))) AS shards
FROM kind.orders o LEFT JOIN combo_keys c ON c.ids = o._ids
WHERE o.order_id IS NOT NULL
GROUP BY o.order_id;
-- A visit no customer is seen in belongs to the shard of its group
-- (landing.activity.sql, foreign_sessions): that shard holds it too.
INSERT INTO route.event_groups
SELECT grp, bit_or(shards)
       | CASE WHEN bool_or(customer_key IS NULL) THEN CAST(1 AS UBIGINT) << shard_of(NULL, grp, CAST($shards AS UBIGINT)) ELSE 0 END
FROM (
    SELECT event_group(e.platform, e.session_id, e.anonymous_id, e.event_date, e._source || ':' || e._fact) AS grp, c.customer_key,
           (CAST(1 AS UBIGINT) << shard_of(c.customer_key, e._source || ':' || e._fact, CAST($shards AS UBIGINT)))
           | coalesce(os.shards, CAST(0 AS UBIGINT)) AS shards
    FROM kind.events e
    LEFT JOIN combo_keys c ON c.ids = e._ids
    LEFT JOIN route_order_shards os ON e.event = 'purchase' AND os.order_id = e.order_id
)
GROUP BY grp;
DROP TABLE route_order_shards;
INSERT INTO route.meta VALUES ('day', CAST($day AS VARCHAR)), ('shards', CAST($shards AS VARCHAR));

-- name: counts
-- What the route job reports: identifier lists resolved, event groups.
SELECT (SELECT count(*) FROM route.combo_keys), (SELECT count(*) FROM route.event_groups);

-- name: clear
DELETE FROM route.meta;
DELETE FROM route.combo_keys;
DELETE FROM route.event_groups;
