-- ops.meta: facts about the warehouse itself, such as the check value of
-- the pepper its tokens were made with (never the pepper), so a run with
-- another pepper stops before it writes a single mismatched token, and
-- its schema version (schema_version: the last migrate.NNNN file applied,
-- see sql/README.md).
-- grain: one row per key

-- name: create
CREATE TABLE IF NOT EXISTS ops.meta (
    key         VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- name: get
SELECT value FROM ops.meta WHERE key = $key;

-- name: put
INSERT INTO ops.meta (key, value) VALUES ($key, $value);

-- name: set
-- A key's value, replacing the one before (the schema version).
DELETE FROM ops.meta WHERE key = $key;
INSERT INTO ops.meta (key, value) VALUES ($key, $value);

-- name: schema_state
-- Before the "create" sections run: how many tables the warehouse holds
-- (none: a new warehouse) and whether ops.meta is one of them (not: a
-- warehouse from before it, schema version 0).
SELECT count(*),
       count(*) FILTER (WHERE schema_name = 'ops' AND table_name = 'meta')
FROM duckdb_tables() WHERE database_name = current_database();

-- name: tables
-- Which of the tables the keystore check reads exist yet. The check runs
-- before the "create" sections, so a warehouse from before ops.meta, or
-- one that never sealed anyone, is told apart from one that lost its
-- keystore.
SELECT schema_name || '.' || table_name FROM duckdb_tables()
WHERE database_name = current_database()
  AND ((schema_name = 'ops' AND table_name = 'meta') OR (schema_name = 'vault' AND table_name = 'pii'));
