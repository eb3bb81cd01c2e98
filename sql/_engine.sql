-- Engine settings the runner changes while the warehouse is open.

-- name: memory_limit
-- DuckDB's memory limit for the rest of the process (its buffer pool, the
-- hash tables and sorts of every connection; past it DuckDB spills to
-- <warehouse>/tmp). $limit is a size such as '2048MiB'.
SET memory_limit = $limit;

-- name: session
-- Run on every new connection first: timestamps are instants, read and
-- written in UTC whatever the machine's zone.
SET TimeZone = 'UTC';

-- name: attach_cold
-- The cold store ({{path}}: cold.duckdb) beside the hot database, as cold.
ATTACH {{path}} AS cold;

-- name: attach_cold_read_only
ATTACH {{path}} AS cold (READ_ONLY);

-- name: schemas
-- The hot database's schemas, before any create section runs.
CREATE SCHEMA IF NOT EXISTS landing;
CREATE SCHEMA IF NOT EXISTS identity;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS consent;
CREATE SCHEMA IF NOT EXISTS vault;
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS handoff;
CREATE SCHEMA IF NOT EXISTS route;

-- name: compact_open
-- parcours compact, on a connection of an empty in-memory database:
-- attach the file ({{path}}) and fold in any WAL a killed run left.
ATTACH {{path}} AS src;
CHECKPOINT src;

-- name: compact_size
-- Its free and total blocks, before it is copied.
SELECT free_blocks, total_blocks FROM pragma_database_size() WHERE database_name = 'src';

-- name: compact_copy
-- Copy its live data into a new file ({{next}}), which then replaces it.
ATTACH {{next}} AS dst;
COPY FROM DATABASE src TO dst;
DETACH dst;
DETACH src;

-- name: checksum_columns
-- The columns of a table, in order (warehouse.TableChecksum, for tests
-- comparing warehouses). $catalog is '' for the hot database.
SELECT column_name FROM information_schema.columns
WHERE table_schema = $schema AND table_name = $name AND ($catalog = '' OR table_catalog = $catalog)
ORDER BY ordinal_position;

-- name: checksum
-- Rows and an order-independent hash of {{columns}} of {{table}}.
SELECT count(*), CAST(coalesce(bit_xor(hash({{columns}})), 0) AS VARCHAR) FROM {{table}};
