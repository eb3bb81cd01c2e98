-- `parcours identity explain`: which customer an identifier belongs to,
-- and the links that joined each of its identifiers. Read by jobs/identity
-- Explain and cmd/parcours (identity.go). Nothing here writes.

-- name: phone
-- An identifier typed by a person read as a phone number (E.164), NULL
-- when it is not one: how the command tells its possible types apart.
SELECT norm_phone($value);

-- name: token
-- The token of one reading of the identifier ($type, $value normalised by
-- the caller), as identity.identifiers holds it.
SELECT pseudonym($type, $value);

-- name: customer
-- The identifier's type and customer, whether that customer is known (has
-- a CRM id) and how many identifiers it has. No row: not in the graph.
SELECT m.id_type, m.customer_key, c.known, c.n_identifiers
FROM identity.customer_map m JOIN identity.customers c USING (customer_key) WHERE m.id_token = $token;

-- name: near
-- The customer's identifiers and those one link away from them (which the
-- over-merge guard may have kept out), with their masked label, whether
-- they belong to the customer and why the guard blocked them, if it did.
WITH members AS (SELECT id_token FROM identity.customer_map WHERE customer_key = $customer_key),
near AS (
  SELECT id_token FROM members
  UNION SELECT l.b_token FROM identity.links l JOIN members m ON l.a_token = m.id_token
  UNION SELECT l.a_token FROM identity.links l JOIN members m ON l.b_token = m.id_token)
SELECT i.id_token, i.id_type, coalesce(i.label, ''), m.customer_key = $customer_key,
       coalesce(b.reason, '')
FROM near n JOIN identity.identifiers i USING (id_token)
JOIN identity.customer_map m USING (id_token)
LEFT JOIN identity.blocked b USING (id_token);

-- name: links
-- Every link touching one of the customer's identifiers, oldest first:
-- the explanation walks them breadth-first, so each path is a shortest
-- chain of evidence.
SELECT a_token, b_token, source, coalesce(evidence, ''), coalesce(strftime(first_seen, '%Y-%m-%d'), '')
FROM identity.links WHERE a_token IN (SELECT id_token FROM identity.customer_map WHERE customer_key = $customer_key)
   OR b_token IN (SELECT id_token FROM identity.customer_map WHERE customer_key = $customer_key)
ORDER BY first_seen, a_token, b_token;
