-- `parcours sources check`: what the dry run's throwaway warehouse holds
-- of one source once its files are loaded, read back by cmd/parcours
-- (sources.go) besides ops.ingest_files.sql and ops.quarantine.sql.
-- {{table}} is a quoted table name the command puts in. Nothing here writes.

-- name: identifiers
-- The identifiers the source's rows carry, per type: values and distinct
-- values ({{table}} is the kind's table, kind.<kind>).
SELECT i."type", count(*), count(DISTINCT i."value")
FROM {{table}}, unnest(_ids) AS u(i) WHERE _source = $source GROUP BY 1 ORDER BY 1;

-- name: sample
-- The first three mapped rows of the source's landing table ({{table}}),
-- as text: {{columns}} are its canonical fields, quoted, in contract order.
SELECT CAST(COLUMNS(* EXCLUDE (_file, _line)) AS VARCHAR)
FROM (SELECT {{columns}}, _file, _line FROM {{table}})
ORDER BY _file, _line NULLS LAST LIMIT 3;
