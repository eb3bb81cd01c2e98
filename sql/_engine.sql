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

-- name: compact_tables
-- The hot file's fact tables (those with customer_key, event_date and ts:
-- analytics.web_events, app_events, store_receipts, order_records,
-- contacts, email_events, survey_responses), for compact_recluster.
SELECT table_name FROM duckdb_columns()
WHERE database_name = 'src' AND schema_name = 'analytics'
GROUP BY table_name
HAVING count(*) FILTER (WHERE column_name IN ('customer_key', 'event_date', 'ts')) = 3
ORDER BY table_name;

-- name: compact_recluster
-- A hot fact table ({{table}}) put back in the split's order (month of
-- event_date, then customer_key, then ts) before the copy: each night adds
-- a one-day batch, so months of nights read like time order, and the
-- purge's and erasure's reads of customer keys slow down (sql/README.md).
-- In one transaction its rows are appended in that order, then its old
-- rows (row ids up to its end before) deleted; the copy that follows
-- leaves their blocks behind.
-- temp: builds recluster_end
BEGIN TRANSACTION;
CREATE OR REPLACE TEMP TABLE recluster_end AS SELECT max(rowid) AS n FROM src.analytics.{{table}};
INSERT INTO src.analytics.{{table}} SELECT * FROM src.analytics.{{table}}
ORDER BY date_trunc('month', event_date), customer_key, ts;
DELETE FROM src.analytics.{{table}} WHERE rowid <= (SELECT n FROM recluster_end);
DROP TABLE recluster_end;
COMMIT;

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
