-- identity.links: evidence that two identifiers belong to one person: two
-- identifiers carried by one row of a source (kind.ids). Each row links its
-- best identifier (a CRM customer id, else an identifier type of the
-- company's own such as account_id, else an email, a phone, a card) to
-- every other one it carries: a CRM record's email/phone/card, the cookie
-- or app device a customer logged in on, an email typed in a survey. A
-- row with one identifier links nothing. A set: reruns add nothing twice.
-- grain: one row per (a_token, b_token, source)

-- name: create
CREATE TABLE IF NOT EXISTS identity.links (
    a_token     VARCHAR NOT NULL,  -- the row's best identifier (a customer id when it has one)
    b_token     VARCHAR NOT NULL,  -- the other identifier
    source      VARCHAR NOT NULL,  -- which extract showed the link
    evidence    VARCHAR,           -- first file or event that showed it
    first_seen  TIMESTAMPTZ,
    PRIMARY KEY (a_token, b_token, source)
);

-- name: extract
CREATE OR REPLACE TEMP TABLE id_links AS
WITH ranked AS (
    SELECT source, fact, linked, evidence, id_type, value,
           CASE id_type WHEN 'customer_id' THEN 0 WHEN 'email' THEN 2 WHEN 'phone' THEN 3 WHEN 'loyalty_card' THEN 4
                        WHEN 'device_id' THEN 5 WHEN 'cookie_id' THEN 6 ELSE 1 END AS rank
    FROM kind.ids
    WHERE kind <> 'consents'  -- a consent names its subject; it links nothing
), anchor AS (
    -- each row's best identifier (ties: the smallest value)
    SELECT source, fact, arg_min(id_type, (rank, value)) AS a_type, arg_min(value, (rank, value)) AS a
    FROM ranked GROUP BY source, fact
), l AS (
    SELECT r.id_type AS b_type, n.a_type, n.a, r.value AS b, r.source,
           arg_min(r.evidence, r.linked) AS evidence, min(r.linked) AS first_seen
    FROM ranked r JOIN anchor n USING (source, fact)
    WHERE r.id_type <> n.a_type OR r.value <> n.a
    GROUP BY ALL
)
SELECT pseudonym(a_type, a) AS a_token, pseudonym(b_type, b) AS b_token, source,
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
