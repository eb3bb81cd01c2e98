-- identity.identifiers: every identifier seen in any source, as a
-- pseudonymous token (HMAC-SHA256 of "type:value" under the pepper), with a
-- masked label for people reading `identity explain`. Raw values never
-- leave landing; PII lives only in the identity vault.
-- grain: one row per identifier (id_token)

-- name: create
CREATE TABLE IF NOT EXISTS identity.identifiers (
    id_token    VARCHAR PRIMARY KEY,
    id_type     VARCHAR NOT NULL,  -- customer_id | email | phone | loyalty_card | cookie_id | device_id | a type of the company's own
    label       VARCHAR,           -- masked for display: j***@gmail.com, +336****78
    first_seen  TIMESTAMPTZ
);

-- name: extract
-- Identifiers of every landing source (kind.ids: ingest normalised them
-- and kept only usable ones), when each was first seen, with their token
-- (computed once: the seeds and the merge both need it).
-- temp: builds id_node_values, id_nodes
CREATE OR REPLACE TEMP TABLE id_node_values AS
SELECT id_type, value, min(seen) AS first_seen
FROM kind.ids
GROUP BY ALL;
-- Missing values are dropped once grouped: a filter on kind.ids' value is
-- pushed into every source's unnested identifier list, where it costs 15
-- times the grouping (33 s against 2 s on the 100,000-customer bench).
DELETE FROM id_node_values WHERE value IS NULL;
CREATE OR REPLACE TEMP TABLE id_nodes AS
SELECT pseudonym(id_type, value) AS id_token, id_type, value, first_seen FROM id_node_values;
DROP TABLE id_node_values;

-- name: merge
-- Only the identifiers the update changes: new ones, or seen earlier than
-- known. Most of a night's identifiers are known (a returning visitor's
-- cookie), and an update that rewrites a row with its own values costs
-- as much as a real one (1.6 s of the 1M steady night, merging them all).
-- The conflict's WHERE leaves them alone, found through the key's index: a
-- join finding them first read the whole table (merge 1.1-1.3 s -> 1.0 s).
-- temp: reads id_nodes
INSERT INTO identity.identifiers (id_token, id_type, label, first_seen)
SELECT n.id_token, n.id_type, mask_identifier(n.id_type, n.value), n.first_seen
FROM id_nodes n
WHERE n.id_token NOT IN (SELECT id_token FROM ops.suppression)  -- erased subjects stay erased
ON CONFLICT (id_token) DO UPDATE SET first_seen = least(first_seen, excluded.first_seen)
WHERE least(first_seen, excluded.first_seen) IS DISTINCT FROM first_seen;
