-- fact_keys (TEMP, per run): for every fact in landing (every row of the
-- fact kinds: events, orders, contacts, email events, surveys), the
-- customer it belongs to, whether it touches an erased (suppressed)
-- identifier, and whether that customer's analytics consent was valid at
-- the fact's time: the gate of the hot split. A fact belongs to the
-- customer of its best identifier that names one (a CRM id before an
-- email, before a phone, a card, a device, a cookie). Identifiers are
-- tokenised once per distinct value, not once per row.

-- name: build
-- Resolved per distinct identifier list, not per fact: a visitor's events
-- all carry the same list, so a batch of tens of millions of facts holds a
-- few million lists (at a million customers the per-fact resolution filled
-- the disk with spill). Each list's identifiers are tokenised once.
CREATE OR REPLACE TEMP TABLE id_combos AS
SELECT DISTINCT ids FROM kind.id_lists
WHERE kind IN ('events', 'orders', 'contacts', 'email_events', 'surveys') AND len(ids) > 0;
CREATE OR REPLACE TEMP TABLE id_values AS
SELECT id_type, value, pseudonym(id_type, value) AS id_token
FROM (SELECT DISTINCT i."type" AS id_type, i."value" AS value FROM id_combos, unnest(ids) AS u(i));
-- A blocked identifier (shared card, family computer) names nobody.
CREATE OR REPLACE TEMP TABLE id_resolve AS
SELECT v.id_type, v.value,
       CASE WHEN m.blocked THEN NULL ELSE m.customer_key END AS customer_key,
       s.id_token IS NOT NULL AS suppressed
FROM id_values v
LEFT JOIN identity.customer_map m ON m.id_token = v.id_token
LEFT JOIN (SELECT DISTINCT id_token FROM ops.suppression) s ON s.id_token = v.id_token;
-- A list names the customer of its best identifier that names one (ties
-- between identifiers of one rank: the smallest type, then value).
CREATE OR REPLACE TEMP TABLE combo_keys AS
SELECT c.ids,
       arg_min(r.customer_key, (c.rank, c.id_type, c.value)) FILTER (WHERE r.customer_key IS NOT NULL) AS customer_key,
       bool_or(r.suppressed) AS suppressed
FROM (
    SELECT ids, i."type" AS id_type, i."value" AS value,
           CASE i."type" WHEN 'customer_id' THEN 0 WHEN 'email' THEN 2 WHEN 'phone' THEN 3 WHEN 'loyalty_card' THEN 4
                         WHEN 'device_id' THEN 5 WHEN 'cookie_id' THEN 6 ELSE 1 END AS rank
    FROM id_combos, unnest(ids) AS u(i)
) c
JOIN id_resolve r USING (id_type, value)
GROUP BY c.ids;

CREATE OR REPLACE TEMP TABLE fact_keys AS
WITH k AS (
    SELECT f.kind, f.source, f.fact AS fact_id, f.linked AS ts, c.customer_key, coalesce(c.suppressed, false) AS suppressed
    FROM kind.id_lists f LEFT JOIN combo_keys c ON c.ids = f.ids
    WHERE f.kind IN ('events', 'orders', 'contacts', 'email_events', 'surveys')
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
DROP TABLE combo_keys;
DROP TABLE id_resolve;
DROP TABLE id_values;
DROP TABLE id_combos;
