-- fact_keys (TEMP, per run): for every fact in landing (every row of the
-- fact kinds: events, orders, contacts, email events, surveys), the
-- customer it belongs to, whether it touches an erased (suppressed)
-- identifier, and whether that customer's analytics consent was valid at
-- the fact's time: the gate of the hot split. A fact belongs to the
-- customer of its best identifier that names one (a CRM id before an
-- email, before a phone, a card, a device, a cookie). Identifiers are
-- tokenised once per distinct value, not once per row.

-- name: build
-- facts and fact_ids are narrow (no identifier lists kept per fact): on
-- the 100,000-customer bench that halves this section's peak memory.
-- kind lets each reader join only its kind's facts: with a constant
-- kind the hash table is built on that part of fact_keys, not on all of it.
CREATE OR REPLACE TEMP TABLE facts AS
SELECT 'events' AS kind, _source AS source, _fact AS fact_id, ts FROM kind.events
UNION ALL SELECT 'orders', _source, _fact, ts FROM kind.orders
UNION ALL SELECT 'contacts', _source, _fact, ts FROM kind.contacts
UNION ALL SELECT 'email_events', _source, _fact, ts FROM kind.email_events
UNION ALL SELECT 'surveys', _source, _fact, ts FROM kind.surveys;
CREATE OR REPLACE TEMP TABLE fact_ids AS
SELECT kind, source, fact AS fact_id, id_type, value,
       CASE id_type WHEN 'customer_id' THEN 0 WHEN 'email' THEN 2 WHEN 'phone' THEN 3 WHEN 'loyalty_card' THEN 4
                    WHEN 'device_id' THEN 5 WHEN 'cookie_id' THEN 6 ELSE 1 END AS rank
FROM kind.ids
WHERE kind IN ('events', 'orders', 'contacts', 'email_events', 'surveys');
CREATE OR REPLACE TEMP TABLE id_values AS
SELECT id_type, value, pseudonym(id_type, value) AS id_token FROM (SELECT DISTINCT id_type, value FROM fact_ids);
-- A blocked identifier (shared card, family computer) names nobody.
CREATE OR REPLACE TEMP TABLE id_resolve AS
SELECT v.id_type, v.value,
       CASE WHEN m.blocked THEN NULL ELSE m.customer_key END AS customer_key,
       s.id_token IS NOT NULL AS suppressed
FROM id_values v
LEFT JOIN identity.customer_map m ON m.id_token = v.id_token
LEFT JOIN (SELECT DISTINCT id_token FROM ops.suppression) s ON s.id_token = v.id_token;

CREATE OR REPLACE TEMP TABLE fact_keys AS
WITH resolved AS (
    SELECT i.kind, i.source, i.fact_id,
           arg_min(r.customer_key, i.rank) FILTER (WHERE r.customer_key IS NOT NULL) AS customer_key,
           bool_or(coalesce(r.suppressed, false)) AS suppressed
    FROM fact_ids i JOIN id_resolve r USING (id_type, value)
    GROUP BY i.kind, i.source, i.fact_id
), k AS (
    SELECT f.kind, f.source, f.fact_id, f.ts, r.customer_key, coalesce(r.suppressed, false) AS suppressed
    FROM facts f LEFT JOIN resolved r USING (kind, source, fact_id)
)
-- mine: the fact belongs to this customer shard (always true unsharded):
-- by its customer, or by its own id when it has none.
SELECT k.kind, k.source, k.fact_id, k.customer_key, k.suppressed, in_shard(k.customer_key, k.source || ':' || k.fact_id) AS mine,
       k.customer_key IS NOT NULL AND NOT k.suppressed AND EXISTS (
           SELECT 1 FROM consent.intervals ci
           WHERE ci.customer_key = k.customer_key AND ci.purpose = 'analytics'
             AND k.ts >= ci.valid_from AND (ci.valid_to IS NULL OR k.ts < ci.valid_to)
       ) AS analytics
FROM k;
DROP TABLE fact_ids;
DROP TABLE id_values;
DROP TABLE id_resolve;
DROP TABLE facts;
