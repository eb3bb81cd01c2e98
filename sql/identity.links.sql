-- identity.links: evidence that two identifiers belong to one person. Every
-- link joins a CRM customer id to another identifier: the CRM record's own
-- email/phone/card, a cookie or app device the customer logged in on, an
-- email typed in a survey answered as that customer. A set: reruns add
-- nothing twice.
-- grain: one row per (a_token, b_token, source)

-- name: create
CREATE TABLE IF NOT EXISTS identity.links (
    a_token     VARCHAR NOT NULL,  -- the customer id
    b_token     VARCHAR NOT NULL,  -- the other identifier
    source      VARCHAR NOT NULL,  -- which extract showed the link
    evidence    VARCHAR,           -- first file or event that showed it
    first_seen  TIMESTAMPTZ,
    PRIMARY KEY (a_token, b_token, source)
);

-- name: extract
CREATE OR REPLACE TEMP TABLE id_links AS
WITH l AS (
    SELECT 'email' AS b_type, customer_id AS a, email AS b, 'crm_customers' AS source,
           arg_min(_file, updated_at) AS evidence, min(updated_at) AS first_seen
    FROM landing.crm_customers WHERE valid_email(email) GROUP BY ALL
    UNION ALL
    SELECT 'phone', customer_id, phone, 'crm_customers', arg_min(_file, updated_at), min(updated_at)
    FROM landing.crm_customers WHERE phone IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'loyalty_card', customer_id, loyalty_card, 'crm_customers', arg_min(_file, updated_at), min(updated_at)
    FROM landing.crm_customers WHERE loyalty_card IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'cookie_id', user_id, cookie_id, 'web_events', 'event ' || arg_min(event_id, ts), min(ts)
    FROM landing.web_events WHERE user_id IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'device_id', user_id, device_id, 'app_events', 'event ' || arg_min(event_id, ts), min(ts)
    FROM landing.app_events WHERE user_id IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT 'email', customer_id, email, 'surveys', 'response ' || arg_min(response_id, ts), min(ts)
    FROM landing.surveys WHERE customer_id IS NOT NULL AND valid_email(email) GROUP BY ALL
)
SELECT pseudonym('customer_id', a) AS a_token, pseudonym(b_type, b) AS b_token, source,
       min(evidence) AS evidence, min(first_seen) AS first_seen
FROM l
GROUP BY ALL;

-- name: merge
INSERT INTO identity.links (a_token, b_token, source, evidence, first_seen)
SELECT a_token, b_token, source, evidence, first_seen FROM id_links
WHERE a_token NOT IN (SELECT id_token FROM ops.suppression)  -- erased subjects stay erased
  AND b_token NOT IN (SELECT id_token FROM ops.suppression)
ON CONFLICT (a_token, b_token, source) DO UPDATE SET
    evidence   = CASE WHEN excluded.first_seen < first_seen THEN excluded.evidence ELSE evidence END,
    first_seen = least(first_seen, excluded.first_seen);
