-- ops.privacy_audit: every purge, erasure, retention delete and privacy
-- scan, with counts and request ids. Never the PII itself: the subject
-- appears only as a short prefix of their customer key.
-- grain: one row per action per table

-- name: create
CREATE TABLE IF NOT EXISTS ops.privacy_audit (
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    run_id        VARCHAR,
    logical_date  DATE,
    action        VARCHAR NOT NULL,  -- consent_purge | retention | erasure | crypto_shred | suppression | landing_drop | scan
    request_id    VARCHAR,           -- erasure request id (or cli:...)
    subject       VARCHAR,           -- first 12 hex of the customer key, never an identifier
    target        VARCHAR,           -- table, or keystore
    rows          BIGINT NOT NULL DEFAULT 0,
    detail        VARCHAR
);

-- name: record
-- One action of a run that names no subject or table (the consent job's
-- lawful basis of analytics).
INSERT INTO ops.privacy_audit (run_id, logical_date, action, rows, detail)
VALUES ($run_id, CAST($date AS DATE), $action, $rows, $detail);

-- name: record_scan
-- The privacy audit's outcome: $rows violations, $detail the list of them
-- (or how many values were scanned, when none).
INSERT INTO ops.privacy_audit (run_id, logical_date, action, target, rows, detail)
VALUES ($run_id, $date, 'scan', 'cold, hot', $rows, $detail);

-- name: record_rows
-- Audit rows written together (jobs/purge WriteAudit: the purge, an
-- erasure or an objection from the command line). {{rows}} stands for one
-- value tuple per row.
INSERT INTO ops.privacy_audit (run_id, logical_date, action, request_id, subject, target, rows, detail) VALUES {{rows}};

-- name: columns
-- The privacy audit's queries (jobs/audit) from here on. {{table}} and
-- {{column}} are quoted identifiers the job puts in.
SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
WHERE table_catalog = $catalog AND list_contains(CAST($schemas AS VARCHAR[]), table_schema)
ORDER BY table_schema, table_name, ordinal_position;

-- name: vault_name_fps
-- The fingerprints of the names of every vault row with a customer key
-- (internal/vault NameFingerprint: their tokens as names).
SELECT DISTINCT unnest(name_fps) FROM vault.pii WHERE customer_key IS NOT NULL;

-- name: vault_names
-- The sealed names of the vault rows with a customer key and no name
-- fingerprints yet (sealed before vault.pii kept them; the vault job
-- fills them in). Only the two name fields: the audit has no use for the
-- others, so never opens them.
SELECT subject_token, first_name, last_name FROM vault.pii WHERE customer_key IS NOT NULL AND name_fps IS NULL;

-- name: cold_values
-- Every distinct text value of one cold column.
SELECT DISTINCT {{column}} FROM cold.main.{{table}} WHERE {{column}} IS NOT NULL;

-- name: cold_tokens
-- Every distinct text value of every cold column at once ($cols[i] is the
-- column of $vals[i]), so identity.identifiers, identity.customers and
-- ops.name_tokens are each read once a night rather than once a column.
-- Counts are per column, as when each column had its own query: distinct
-- tokens of the column matched against known identifiers of every type
-- (tokens first, then an equality join: an IN-list join condition is a
-- nested loop, values x identifiers), the column's values that are a
-- customer key, and its distinct name tokens held in a shard's vault.
WITH x AS (
    SELECT unnest(CAST($cols AS VARCHAR[])) AS col, unnest(CAST($vals AS VARCHAR[])) AS v
), ids AS (
    SELECT DISTINCT x.col, pseudonym(t.typ, x.v) AS tok
    FROM x, (VALUES ('customer_id'), ('email'), ('phone'), ('loyalty_card'), ('cookie_id'), ('device_id')) t(typ)
), names AS (
    SELECT DISTINCT x.col, pseudonym('name', lower(x.v)) AS tok FROM x
)
SELECT 'identifier' AS rule, p.col, count(*) AS n FROM ids p JOIN identity.identifiers i ON i.id_token = p.tok GROUP BY p.col
UNION ALL
SELECT 'customer_key', x.col, count(*) FROM x WHERE x.v IN (SELECT customer_key FROM identity.customers) GROUP BY x.col
UNION ALL
SELECT 'name_token', p.col, count(*) FROM names p JOIN ops.name_tokens t ON t.token = p.tok GROUP BY p.col;

-- name: cold_under_k
-- Rows of a cold table standing for fewer than $k customers.
SELECT count(*) FROM cold.main.{{table}} WHERE customers < $k;

-- name: hot_emails
-- Values of a hot analytics text column that hold an email address.
SELECT count(*) FROM analytics.{{table}}
WHERE contains({{column}}, '@') AND regexp_matches({{column}}, '[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}');
