-- Reading a user's files where there is no warehouse: `parcours sources
-- init` samples export files (internal/sources/draft), `parcours model
-- fit` reads a Parquet table (cmd/parcours tabular.go). Both run on a
-- throwaway in-memory DuckDB. {{path}} and the CSV dialect are string
-- literals the caller puts in. Nothing here writes.

-- name: sniff_csv
-- DuckDB's CSV sniffer on the sampled head of a file ($path, a copy of
-- it): its delimiter, quote and whether it has a header.
SELECT Delimiter, Quote, HasHeader FROM sniff_csv($path);

-- name: sample_csv
-- The first $limit rows of the sampled head, read as text in the dialect
-- the sniffer found. Short rows are padded and unreadable ones skipped.
SELECT * FROM read_csv({{path}}, delim = {{delim}}, quote = {{quote}}, escape = {{quote}}, header = {{header}}, all_varchar = true, null_padding = true, ignore_errors = true) LIMIT $limit;

-- name: sample_parquet
-- The first $limit rows of a Parquet file, each as a JSON object.
SELECT CAST(to_json(t) AS VARCHAR) FROM read_parquet({{path}}) t LIMIT $limit;

-- name: read_parquet
-- Every row of a Parquet file ($path), as model fit reads a table.
SELECT * FROM read_parquet($path);
