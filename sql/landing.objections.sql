-- landing.objections: objections to processing (GDPR article 21) as a
-- preference centre or a DPO's tool exports them: to profiling, or to
-- direct marketing, and their withdrawal. Subject normalised by type.
-- grain: one row per objection_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.objections (
    objection_id  VARCHAR,
    ts            TIMESTAMPTZ,
    subject_id    VARCHAR,
    subject_type  VARCHAR,
    scope         VARCHAR,  -- profiling | marketing
    status        VARCHAR,  -- objected | withdrawn
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

-- name: load
SELECT
    objection_id, ts,
    CASE subject_type
        WHEN 'email' THEN norm_email(subject_id)
        WHEN 'phone' THEN norm_phone(subject_id)
        ELSE subject_id
    END AS subject_id,
    subject_type, scope, status,
    COLUMNS('^_')
FROM typed;
