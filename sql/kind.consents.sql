-- kind consents: Consent grants and withdrawals, subject normalised by type:
-- landing.<source> of every consents source.
-- grain: one row per consent_id

-- name: columns
-- The landing table of a consents source (ingest adds the lineage columns).
consent_id    VARCHAR,
subject_id    VARCHAR,
subject_type  VARCHAR,
purpose       VARCHAR,
status        VARCHAR,
ts            TIMESTAMPTZ,
expires_at    TIMESTAMPTZ,
source        VARCHAR,
tc_string     VARCHAR   -- an IAB TCF v2 consent string (consent.events turns it into one record per purpose)

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days.
SELECT
    consent_id,
    CASE subject_type
        WHEN 'email' THEN norm_email(subject_id)
        WHEN 'phone' THEN norm_phone(subject_id)
        ELSE subject_id
    END AS subject_id,
    subject_type, purpose, status, ts, expires_at, source, tc_string,
    COLUMNS('^_')
FROM typed;

-- name: ids
-- A consent's subject is an identifier too (identity knows it, links none).
SELECT _source AS source, 'consents' AS kind, _fact AS fact, ts AS linked, NULL::TIMESTAMPTZ AS created,
       'consent ' || consent_id AS evidence, _ids AS ids
FROM kind.consents;
