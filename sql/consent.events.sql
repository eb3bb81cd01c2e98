-- consent.events: the consent history as received, with the subject
-- pseudonymised (its identifier token, never the email or phone). Kept
-- whole: it is the proof of consent, and what consent_intervals is
-- recomputed from whenever stitching changes.
-- grain: one row per consent_id

-- name: create
CREATE TABLE IF NOT EXISTS consent.events (
    consent_id     VARCHAR NOT NULL,
    subject_token  VARCHAR NOT NULL,  -- pseudonym(subject_type, subject_id)
    subject_type   VARCHAR NOT NULL,  -- customer_id | email | phone
    purpose        VARCHAR NOT NULL,  -- analytics | personalization | marketing_email | marketing_sms | marketing_ads
    status         VARCHAR NOT NULL,  -- granted | withdrawn
    ts             TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ,
    source         VARCHAR,           -- where it was given: web form, app, store, call centre...
    run_id         VARCHAR NOT NULL
);

-- name: load
-- New consent records of this batch; an erased subject's records never
-- come back (suppression list). A record carrying an IAB TCF consent
-- string becomes one record per purpose of privacy.tcf_purposes
-- (tcf_mapping()): granted when the string consents to every TCF purpose
-- it maps to, withdrawn otherwise (a TC string states every choice).
INSERT INTO consent.events
WITH records AS (
    SELECT consent_id, subject_type, subject_id, purpose, status, ts, expires_at, source
    FROM kind.consents WHERE tc_string IS NULL
    UNION ALL
    SELECT l.consent_id || ':' || m.purpose, l.subject_type, l.subject_id, m.purpose,
           CASE WHEN list_has_all(tcf_purposes(l.tc_string), m.tcf) THEN 'granted' ELSE 'withdrawn' END,
           l.ts, l.expires_at, coalesce(l.source, 'tcf')
    FROM kind.consents l, tcf_mapping() m
    WHERE l.tc_string IS NOT NULL AND m.purpose IS NOT NULL
)
SELECT l.consent_id, pseudonym(l.subject_type, l.subject_id), l.subject_type, l.purpose, l.status,
       l.ts, l.expires_at, l.source, $run_id
FROM records l
WHERE l.consent_id NOT IN (SELECT consent_id FROM consent.events)
  AND pseudonym(l.subject_type, l.subject_id) NOT IN (SELECT id_token FROM ops.suppression);
