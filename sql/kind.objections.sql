-- kind objections: Objections to processing (GDPR article 21) and their withdrawal,
-- subject normalised by type: landing.<source> of every objections source.
-- grain: one row per objection_id

-- name: columns
-- The landing table of a objections source (ingest adds the lineage columns).
objection_id  VARCHAR,
ts            TIMESTAMPTZ,
subject_id    VARCHAR,
subject_type  VARCHAR,
scope         VARCHAR,  -- profiling | marketing
status        VARCHAR   -- objected | withdrawn

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
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
