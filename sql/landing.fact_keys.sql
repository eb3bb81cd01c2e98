-- fact keys (TEMP, per run): for every fact in landing (every row of the
-- fact kinds: events, orders, contacts, email events, surveys), the
-- customer it belongs to, whether it touches an erased (suppressed)
-- identifier, and whether that customer's analytics consent was valid at
-- the fact's time: the gate of the hot split. A fact belongs to the
-- customer of its best identifier that names one (a CRM id before an
-- email, before a phone, a card, a device, a cookie). Identifiers are
-- tokenised once per distinct value, not once per row.
--
-- Builds the TEMP table combo_keys and the TEMP table macro keyed:
-- keyed('kind.events') is the kind's rows with _customer_key, _suppressed,
-- _mine (the fact belongs to this customer shard, always true unsharded)
-- and _analytics. The split's hot and cold sections read it, on the
-- split's connection.

-- name: build
-- Resolved per distinct identifier list, not per fact: a visitor's events
-- all carry the same list, so a batch of tens of millions of facts holds a
-- few million lists. Each list's identifiers are tokenised once.
-- id_combos counts the facts of each list (the split's counts).
-- temp: builds combo_keys, id_combos, id_resolve, id_values
CREATE OR REPLACE TEMP TABLE id_combos AS
SELECT ids, count(*) AS facts FROM kind.id_lists
WHERE kind IN ('events', 'orders', 'contacts', 'email_events', 'surveys')
GROUP BY ids;
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
    SELECT ids, i."type" AS id_type, i."value" AS value, id_rank(i."type") AS rank
    FROM id_combos, unnest(ids) AS u(i)
) c
JOIN id_resolve r USING (id_type, value)
GROUP BY c.ids;

-- A macro, not a table of every fact's key: each reader scans its kind once
-- and joins the small combo_keys (at a million customers such a table
-- spilled gigabytes before the first hot table was written).
CREATE OR REPLACE TEMP MACRO consented_at(key, fact_ts) AS key IS NOT NULL AND EXISTS (
    SELECT 1 FROM consent.intervals ci
    WHERE ci.customer_key = key AND ci.purpose = 'analytics' AND fact_ts >= ci.valid_from AND (ci.valid_to IS NULL OR fact_ts < ci.valid_to));
CREATE OR REPLACE TEMP MACRO keyed(kind_view) AS TABLE
SELECT *, in_shard(_customer_key, _source || ':' || _fact) AS _mine, NOT _suppressed AND consented_at(_customer_key, ts) AS _analytics
FROM (SELECT f.*, c.customer_key AS _customer_key, coalesce(c.suppressed, false) AS _suppressed
      FROM query_table(kind_view) f LEFT JOIN combo_keys c ON c.ids = f._ids);
DROP TABLE id_resolve;
DROP TABLE id_values;

-- name: counts
-- The split's counts, from the lists (no second scan of the facts): facts,
-- facts without a customer, facts touching an erased identifier.
-- temp: reads combo_keys, id_combos
SELECT CAST(coalesce(sum(c.facts), 0) AS BIGINT), CAST(coalesce(sum(c.facts) FILTER (WHERE k.customer_key IS NULL), 0) AS BIGINT),
       CAST(coalesce(sum(c.facts) FILTER (WHERE k.suppressed), 0) AS BIGINT)
FROM id_combos c LEFT JOIN combo_keys k ON k.ids = c.ids;
