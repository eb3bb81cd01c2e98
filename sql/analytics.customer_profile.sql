-- analytics.customer_profile: the generalised attributes analytics and cold
-- aggregates may use, taken from the newest CRM version of each customer
-- id: region (not postcode), birth year (for 10-year age bands; not the
-- birth date), signup channel and date. No PII: names, contacts and exact
-- dates stay sealed in the vault.
-- grain: one row per subject_token (CRM customer id)

-- name: create
CREATE TABLE IF NOT EXISTS analytics.customer_profile (
    subject_token   VARCHAR NOT NULL,
    customer_key    VARCHAR,
    region          VARCHAR NOT NULL,  -- from the postcode's département; 'unknown' when there is none
    birth_year      INTEGER,
    signup_channel  VARCHAR,
    created_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- name: build
DELETE FROM analytics.customer_profile
WHERE subject_token IN (SELECT pseudonym('customer_id', customer_id) FROM kind.customers);
INSERT INTO analytics.customer_profile
SELECT pseudonym('customer_id', c.customer_id), NULL,
       coalesce(r.region, 'unknown'), year(c.birth_date), c.signup_channel, c.created_at, c.updated_at
FROM kind.customers c
LEFT JOIN ref.regions r ON r.prefix = left(c.postcode, 2) AND regexp_full_match(c.postcode, '[0-9]{5}')
WHERE pseudonym('customer_id', c.customer_id) NOT IN (SELECT id_token FROM ops.suppression)
QUALIFY row_number() OVER (PARTITION BY c.customer_id ORDER BY c.updated_at DESC, c._file DESC) = 1;
UPDATE analytics.customer_profile SET customer_key = m.customer_key
FROM identity.customer_map m
-- subject tokens are CRM ids' tokens: the map's other types never match (a sixth of the rows to join)
WHERE m.id_type = 'customer_id' AND m.id_token = analytics.customer_profile.subject_token AND analytics.customer_profile.customer_key IS DISTINCT FROM m.customer_key;
