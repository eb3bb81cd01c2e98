-- Migration 3: analytics.churn_scores.reasons written before it held
-- each customer's reasons as a JSON string wrapping the array (the
-- appender encodes a Go string given for a JSON column as a JSON string);
-- they become the array itself, as the scoring job now writes it.

-- name: up
UPDATE analytics.churn_scores SET reasons = CAST(reasons->>'$' AS JSON) WHERE json_type(reasons) = 'VARCHAR';
