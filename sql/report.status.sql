-- report.status: what `parcours status` reads to report on a warehouse
-- (cmd/parcours). Nothing here writes.

-- name: ingest_files
-- Files, rows and problems per source from ops.ingest_files, for one
-- extract folder date ($date) or for all of them when $date is NULL.
-- temp: reads superseded
SELECT source, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_duplicate),
       string_agg(CASE WHEN status NOT IN ('loaded', 'superseded') THEN file || ': ' || status END, '; ')
FROM ops.ingest_files
WHERE $date IS NULL OR folder_date = $date
GROUP BY source ORDER BY source;
