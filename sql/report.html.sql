-- report.html: what the HTML report (jobs/report) reads from tables whose
-- own SQL file belongs to another job, and the catalog look-ups that tell
-- "no data yet" from an error. The report reads only cold tables and ops
-- counts: never a customer row, a quarantined row's text, an audit
-- subject or a request id. Nothing here writes. Dates are passed as
-- 'YYYY-MM-DD' strings.

-- name: cold_table_exists
-- Is $table a table of the attached cold store?
SELECT count(*) FROM duckdb_tables() WHERE database_name = 'cold' AND schema_name = 'main' AND table_name = $table;

-- name: table_exists
-- Is $schema.$table a table of the hot store (ops, ...)?
SELECT count(*) FROM duckdb_tables() WHERE database_name <> 'cold' AND schema_name = $schema AND table_name = $table;

-- name: return_on_spend
-- A month's spend and credits per channel under the two models the
-- return-on-spend table sets side by side, the largest spenders first.
SELECT channel, model, spend, conversions, revenue, roas, cost_per_conversion, new_customers, cac
FROM cold.return_on_spend WHERE month = CAST($month AS DATE) AND model IN ($model, $compared_model)
ORDER BY max(spend) OVER (PARTITION BY channel) DESC, max(conversions) OVER (PARTITION BY channel) DESC, channel, model;

-- name: segment_sizes
-- Each segment's customers at the latest computation on or before $day,
-- the computation before it and the latest one at least a week older.
WITH d AS (
    SELECT max(computed_on) AS now FROM cold.segment_profiles WHERE computed_on <= CAST($day AS DATE)
), days AS (
    SELECT now,
           (SELECT max(computed_on) FROM cold.segment_profiles, d WHERE computed_on < d.now) AS prev,
           (SELECT max(computed_on) FROM cold.segment_profiles, d WHERE computed_on <= d.now - 7) AS week
    FROM d
)
SELECT days.now, days.prev, days.week, s.family, s.segment,
       max(coalesce(s.label, s.segment)) FILTER (WHERE s.computed_on = days.now),
       max(s.customers) FILTER (WHERE s.computed_on = days.now),
       max(s.customers) FILTER (WHERE s.computed_on = days.prev),
       max(s.customers) FILTER (WHERE s.computed_on = days.week)
FROM cold.segment_profiles s, days
WHERE s.computed_on IN (days.now, days.prev, days.week)
GROUP BY ALL
HAVING max(s.customers) FILTER (WHERE s.computed_on = days.now) IS NOT NULL
ORDER BY s.family, 7 DESC, s.segment;

-- name: churn_risk_mix
-- The churn risk bands' customers and shares on $day, the day before
-- ($day_before) and a week before ($week_before).
SELECT scored_on, risk_band, customers, share FROM cold.churn_risk_mix
WHERE scored_on IN (CAST($day AS DATE), CAST($day_before AS DATE), CAST($week_before AS DATE));

-- name: segments_computed_on
-- The latest segment computation on or before $day (NULL when none).
SELECT max(computed_on) FROM cold.segment_profiles WHERE computed_on <= CAST($day AS DATE);

-- name: segments
-- The segments computed on $computed_on, largest first in each family.
SELECT family, segment, coalesce(label, segment), customers, coalesce(description, ''),
       coalesce(CAST(profile AS VARCHAR), '')
FROM cold.segment_profiles WHERE computed_on = CAST($computed_on AS DATE) ORDER BY family, customers DESC, segment;

-- name: promoted_model
-- The promoted model of a $kind (churn, clv) with its metrics as text:
-- the latest promoted when several are.
SELECT id, algorithm, train_cutoff, eval_cutoff, CAST(metrics AS VARCHAR) FROM ops.models
WHERE kind = $kind AND status = 'promoted' ORDER BY promoted_at DESC NULLS LAST, created_at DESC LIMIT 1;

-- name: ingest_sources
-- Files and rows per source of the extract folders dated $from to $to.
SELECT source, count(*),
  count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = 'rejected'), count(*) FILTER (WHERE status = 'failed'),
  CAST(sum(rows_read) AS BIGINT), CAST(sum(rows_loaded) AS BIGINT), CAST(sum(rows_quarantined) AS BIGINT), CAST(sum(rows_duplicate) AS BIGINT)
FROM ops.ingest_files WHERE folder_date BETWEEN CAST($from AS DATE) AND CAST($to AS DATE)
GROUP BY source ORDER BY source;

-- name: privacy_actions
-- ops.privacy_audit counted per action up to $day, and since $recent:
-- entries, distinct requests and rows (subjects and request ids are only
-- counted, never read).
WITH a AS (
    SELECT action, request_id, rows, coalesce(logical_date, CAST(recorded_at AS DATE)) AS day FROM ops.privacy_audit
)
SELECT action, count(*), count(DISTINCT request_id), CAST(coalesce(sum(rows), 0) AS BIGINT),
       count(*) FILTER (WHERE day >= CAST($recent AS DATE)), CAST(coalesce(sum(rows) FILTER (WHERE day >= CAST($recent AS DATE)), 0) AS BIGINT)
FROM a WHERE day <= CAST($day AS DATE) GROUP BY action ORDER BY action;
