-- Engine settings the runner changes while the warehouse is open.

-- name: memory_limit
-- DuckDB's memory limit for the rest of the process (its buffer pool, the
-- hash tables and sorts of every connection; past it DuckDB spills to
-- <warehouse>/tmp). $limit is a size such as '2048MiB'.
SET memory_limit = $limit;
