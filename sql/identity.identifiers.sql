-- identity.identifiers: every identifier seen in any source, as a
-- pseudonymous token (HMAC-SHA256 of "type:value" under the pepper), with a
-- masked label for people reading `identity explain`. Raw values never
-- leave landing; PII lives only in the identity vault.
-- grain: one row per identifier (id_token)

-- name: create
CREATE TABLE IF NOT EXISTS identity.identifiers (
    id_token    VARCHAR PRIMARY KEY,
    id_type     VARCHAR NOT NULL,  -- customer_id | email | phone | loyalty_card | cookie_id | device_id
    label       VARCHAR,           -- masked for display: j***@gmail.com, +336****78
    first_seen  TIMESTAMPTZ
);

-- name: extract
-- Identifiers of every landing source, normalised (ingest did that) and
-- keeping only usable ones (plausible emails; phones that normalised).
CREATE OR REPLACE TEMP TABLE id_nodes AS
WITH seen AS (
    SELECT 'customer_id' AS id_type, customer_id AS value, min(created_at) AS first_seen FROM landing.crm_customers GROUP BY ALL
    UNION ALL SELECT 'email', email, min(updated_at) FROM landing.crm_customers WHERE valid_email(email) GROUP BY ALL
    UNION ALL SELECT 'phone', phone, min(updated_at) FROM landing.crm_customers WHERE phone IS NOT NULL GROUP BY ALL
    UNION ALL SELECT 'loyalty_card', loyalty_card, min(updated_at) FROM landing.crm_customers WHERE loyalty_card IS NOT NULL GROUP BY ALL
    UNION ALL SELECT 'cookie_id', cookie_id, min(ts) FROM landing.web_events GROUP BY ALL
    UNION ALL SELECT 'customer_id', user_id, min(ts) FROM landing.web_events WHERE user_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT 'device_id', device_id, min(ts) FROM landing.app_events GROUP BY ALL
    UNION ALL SELECT 'customer_id', user_id, min(ts) FROM landing.app_events WHERE user_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT 'loyalty_card', loyalty_card, min(ts) FROM landing.pos_transactions WHERE loyalty_card IS NOT NULL GROUP BY ALL
    UNION ALL SELECT 'phone', phone, min(ts) FROM landing.callcenter_contacts WHERE phone IS NOT NULL GROUP BY ALL
    UNION ALL SELECT 'email', email, min(ts) FROM landing.email_events WHERE valid_email(email) GROUP BY ALL
    UNION ALL SELECT 'customer_id', customer_id, min(ts) FROM landing.surveys WHERE customer_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT 'email', email, min(ts) FROM landing.surveys WHERE valid_email(email) GROUP BY ALL
    UNION ALL SELECT subject_type, subject_id, min(ts) FROM landing.consents WHERE subject_id IS NOT NULL GROUP BY ALL
)
SELECT id_type, value, min(first_seen) AS first_seen
FROM seen
WHERE value IS NOT NULL
GROUP BY ALL;

-- name: merge
INSERT INTO identity.identifiers (id_token, id_type, label, first_seen)
SELECT pseudonym(id_type, value), id_type, mask_identifier(id_type, value), first_seen
FROM id_nodes
WHERE pseudonym(id_type, value) NOT IN (SELECT id_token FROM ops.suppression)  -- erased subjects stay erased
ON CONFLICT (id_token) DO UPDATE SET first_seen = least(first_seen, excluded.first_seen);
