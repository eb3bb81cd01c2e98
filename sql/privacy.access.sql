-- Subject access (`parcours privacy export`): everything held about the
-- customers an identifier names, read by jobs/purge Access. Nothing here
-- writes. $type is email, phone or customer_id; $value the identifier as
-- given, normalised here as ingest normalises it.

-- name: token
-- The identifier's token, as identity and the suppression list hold it.
SELECT pseudonym($type, CASE $type WHEN 'email' THEN norm_email($value) WHEN 'phone' THEN norm_phone($value) ELSE $value END);

-- name: suppressed
-- Was the identifier erased (it is on the suppression list)?
SELECT count(*) > 0 FROM ops.suppression WHERE id_token = $token;

-- name: customers
-- The customers the identifier belongs to (a blocked identifier, shared by
-- several people, names nobody).
SELECT DISTINCT customer_key FROM identity.customer_map WHERE id_token = $token AND NOT blocked ORDER BY 1;

-- name: identifiers
-- A customer's identifiers, masked.
SELECT m.id_type AS type, i.label, i.first_seen, m.blocked
FROM identity.customer_map m JOIN identity.identifiers i USING (id_token)
WHERE m.customer_key = $customer_key ORDER BY 1, 2;

-- name: consents
-- A customer's consent records, oldest first.
SELECT e.purpose, e.status, e.ts, e.expires_at, e.source, e.subject_type AS given_with
FROM consent.events e JOIN identity.customer_map m ON m.id_token = e.subject_token
WHERE m.customer_key = $customer_key ORDER BY e.ts;

-- name: customer_tables
-- Every analytics table keyed by customer: facts, and the scores,
-- segments and reasons later jobs add, without listing them here.
SELECT table_schema || '.' || table_name AS t FROM information_schema.columns
WHERE table_catalog = 'hot' AND table_schema = 'analytics' AND column_name = 'customer_key' ORDER BY 1;

-- name: table_rows
-- A customer's rows of one of those tables ({{table}}, quoted by the job).
SELECT * EXCLUDE (customer_key) FROM {{table}} WHERE customer_key = $customer_key;

-- name: phone
-- The identifier read as a phone number (E.164), NULL when it is not one:
-- how an untyped identifier is told apart.
SELECT norm_phone($value);
