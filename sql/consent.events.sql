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
-- come back (suppression list).
INSERT INTO consent.events
SELECT l.consent_id, pseudonym(l.subject_type, l.subject_id), l.subject_type, l.purpose, l.status,
       l.ts, l.expires_at, l.source, $run_id
FROM landing.consents l
WHERE l.consent_id NOT IN (SELECT consent_id FROM consent.events)
  AND pseudonym(l.subject_type, l.subject_id) NOT IN (SELECT id_token FROM ops.suppression);
