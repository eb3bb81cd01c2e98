-- landing.consents: consent grants and withdrawals, subject normalised by type.
-- grain: one row per consent_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.consents (
    consent_id    VARCHAR,
    subject_id    VARCHAR,
    subject_type  VARCHAR,
    purpose       VARCHAR,
    status        VARCHAR,
    ts            TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ,
    source        VARCHAR,
    _file       VARCHAR,  -- extract file (relative to the input folder)
    _load_date  DATE,     -- folder date of that file
    _run_id     VARCHAR,
    _line       BIGINT,   -- Parquet row number; text formats keep it only in quarantine
    _extra      JSON,     -- columns the contract does not know, kept aside
    _reasons    VARCHAR,  -- contract violations (rows with any are moved to ops.quarantine)
    _field      VARCHAR,
    _raw        VARCHAR,
    _nulled     VARCHAR   -- values dropped as invalid, by reason (counted in ops.ingest_files.nulled)
);
ALTER TABLE landing.consents ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    consent_id,
    CASE subject_type
        WHEN 'email' THEN norm_email(subject_id)
        WHEN 'phone' THEN norm_phone(subject_id)
        ELSE subject_id
    END AS subject_id,
    subject_type, purpose, status, ts, expires_at, source,
    COLUMNS('^_')
FROM typed;
