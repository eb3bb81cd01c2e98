-- parcours-bench's physical limit for ingest (cmd/parcours-bench limit.go):
-- per source, one read of all its files with their declared types and the
-- source's dedup on its key, into a table of a scratch database. The bench
-- fills the placeholders from the source definitions: {{table}} (the
-- source's name, quoted), {{glob}} (its files, a string literal),
-- {{columns}} (the files' columns with their declared types), {{options}}
-- (the source's timestamp and date formats, when it declares them), the
-- CSV dialect, and {{key}} (the dedup key's columns or expressions).
-- Sections named reader_* are table functions, not statements: they stand
-- for {{reader}} in load_*.

-- name: session
-- The warehouse's session time zone: timestamps are read as instants in UTC.
SET TimeZone = 'UTC';

-- name: reader_parquet
-- Parquet files, their columns as the files type them.
read_parquet({{glob}}, filename = true, union_by_name = true)

-- name: reader_json
-- Newline-delimited JSON with the declared column types. A value that
-- does not read as its type drops the row (the limit quarantines nothing).
read_json({{glob}}, format = 'newline_delimited', columns = { {{columns}} }, filename = true, ignore_errors = true{{options}})

-- name: reader_csv
-- CSV in the source's dialect with the declared column types. A value
-- that does not read as its type drops the row.
read_csv({{glob}}, header = {{header}}, auto_detect = false, delim = {{delim}}, quote = {{quote}}, escape = {{escape}}, columns = { {{columns}} }, filename = true, ignore_errors = true{{options}})

-- name: load_upsert
-- An upsert source: the latest delivery of a key wins.
CREATE TABLE {{table}} AS
SELECT * FROM {{reader}}
QUALIFY row_number() OVER (PARTITION BY {{key}} ORDER BY filename DESC) = 1;

-- name: load_distinct
-- Any other source: one row per key, by a hash aggregate, the cheapest
-- dedup DuckDB has (a re-delivery is the same event, whichever copy is kept).
CREATE TABLE {{table}} AS
SELECT DISTINCT ON ({{key}}) * FROM {{reader}};

-- name: count
-- The rows a source's table holds.
SELECT count(*) FROM {{table}};

-- name: drop
-- A source's table, dropped before its read is timed again.
DROP TABLE IF EXISTS {{table}};
