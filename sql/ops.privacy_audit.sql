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
INSERT INTO ops.privacy_audit (run_id, logical_date, action, rows, detail)
VALUES ($run_id, CAST($date AS DATE), $action, $rows, $detail);
