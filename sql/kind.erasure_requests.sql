-- kind erasure_requests: Right-to-be-forgotten requests, subject normalised by type:
-- landing.<source> of every erasure_requests source.
-- grain: one row per request_id

-- name: columns
-- The landing table of a erasure_requests source (ingest adds the lineage columns).
request_id    VARCHAR,
ts            TIMESTAMPTZ,
subject_id    VARCHAR,
subject_type  VARCHAR

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT
    request_id, ts,
    CASE subject_type
        WHEN 'email' THEN norm_email(subject_id)
        WHEN 'phone' THEN norm_phone(subject_id)
        ELSE subject_id
    END AS subject_id,
    subject_type,
    COLUMNS('^_')
FROM typed;
