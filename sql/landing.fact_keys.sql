-- fact_keys (TEMP, per run): for every fact in landing, the customer it
-- belongs to, whether it touches an erased (suppressed) identifier, and
-- whether that customer's analytics consent was valid at the fact's time:
-- the gate of the hot split. Identifiers are tokenised once per distinct
-- value, not once per row.

-- name: build
CREATE OR REPLACE TEMP TABLE id_values AS
SELECT id_type, value, pseudonym(id_type, value) AS id_token FROM (
    SELECT 'customer_id' AS id_type, user_id AS value FROM landing.web_events WHERE user_id IS NOT NULL
    UNION SELECT 'cookie_id', cookie_id FROM landing.web_events WHERE cookie_id IS NOT NULL
    UNION SELECT 'customer_id', user_id FROM landing.app_events WHERE user_id IS NOT NULL
    UNION SELECT 'device_id', device_id FROM landing.app_events WHERE device_id IS NOT NULL
    UNION SELECT 'loyalty_card', loyalty_card FROM landing.pos_transactions WHERE loyalty_card IS NOT NULL
    UNION SELECT 'phone', phone FROM landing.callcenter_contacts WHERE phone IS NOT NULL
    UNION SELECT 'email', email FROM landing.email_events WHERE email IS NOT NULL
    UNION SELECT 'customer_id', customer_id FROM landing.surveys WHERE customer_id IS NOT NULL
    UNION SELECT 'email', email FROM landing.surveys WHERE email IS NOT NULL
);
-- A blocked identifier (shared card, family computer) names nobody.
CREATE OR REPLACE TEMP TABLE id_resolve AS
SELECT v.id_type, v.value,
       CASE WHEN m.blocked THEN NULL ELSE m.customer_key END AS customer_key,
       s.id_token IS NOT NULL AS suppressed
FROM id_values v
LEFT JOIN identity.customer_map m ON m.id_token = v.id_token
LEFT JOIN (SELECT DISTINCT id_token FROM ops.suppression) s ON s.id_token = v.id_token;

CREATE OR REPLACE TEMP TABLE fact_keys AS
WITH k AS (
    SELECT 'web_events' AS source, f.event_id AS fact_id, f.ts,
           coalesce(u.customer_key, c.customer_key) AS customer_key,
           coalesce(u.suppressed, false) OR coalesce(c.suppressed, false) AS suppressed
    FROM landing.web_events f
    LEFT JOIN id_resolve u ON u.id_type = 'customer_id' AND u.value = f.user_id
    LEFT JOIN id_resolve c ON c.id_type = 'cookie_id' AND c.value = f.cookie_id
    UNION ALL
    SELECT 'app_events', f.event_id, f.ts, coalesce(u.customer_key, d.customer_key),
           coalesce(u.suppressed, false) OR coalesce(d.suppressed, false)
    FROM landing.app_events f
    LEFT JOIN id_resolve u ON u.id_type = 'customer_id' AND u.value = f.user_id
    LEFT JOIN id_resolve d ON d.id_type = 'device_id' AND d.value = f.device_id
    UNION ALL
    SELECT 'pos_transactions', f.receipt_id, f.ts, c.customer_key, coalesce(c.suppressed, false)
    FROM landing.pos_transactions f
    LEFT JOIN id_resolve c ON c.id_type = 'loyalty_card' AND c.value = f.loyalty_card
    UNION ALL
    SELECT 'callcenter_contacts', f.contact_id, f.ts, p.customer_key, coalesce(p.suppressed, false)
    FROM landing.callcenter_contacts f
    LEFT JOIN id_resolve p ON p.id_type = 'phone' AND p.value = f.phone
    UNION ALL
    SELECT 'email_events', f.event_id, f.ts, e.customer_key, coalesce(e.suppressed, false)
    FROM landing.email_events f
    LEFT JOIN id_resolve e ON e.id_type = 'email' AND e.value = f.email
    UNION ALL
    SELECT 'surveys', f.response_id, f.ts, coalesce(u.customer_key, e.customer_key),
           coalesce(u.suppressed, false) OR coalesce(e.suppressed, false)
    FROM landing.surveys f
    LEFT JOIN id_resolve u ON u.id_type = 'customer_id' AND u.value = f.customer_id
    LEFT JOIN id_resolve e ON e.id_type = 'email' AND e.value = f.email
)
-- mine: the fact belongs to this customer shard (always true unsharded):
-- by its customer, or by its own id when it has none.
SELECT k.source, k.fact_id, k.customer_key, k.suppressed, in_shard(k.customer_key, k.source || ':' || k.fact_id) AS mine,
       k.customer_key IS NOT NULL AND NOT k.suppressed AND EXISTS (
           SELECT 1 FROM consent.intervals ci
           WHERE ci.customer_key = k.customer_key AND ci.purpose = 'analytics'
             AND k.ts >= ci.valid_from AND (ci.valid_to IS NULL OR k.ts < ci.valid_to)
       ) AS analytics
FROM k;
