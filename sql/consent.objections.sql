-- consent.objections: the data subject's objections and contests, as a
-- log. Objections to processing (GDPR article 21) have a scope: profiling
-- (no churn or CLV score, no segment, no trigger, no activation) or
-- marketing (no segment, no trigger, no activation: direct marketing,
-- including the profiling behind it). A contest of an automated decision
-- (article 22) has the scope contest and, until it is resolved, works as
-- an objection to profiling. Records come from `parcours privacy object |
-- contest | resolve` and from the objections source; the latest record per
-- customer and scope decides. Subjects are pseudonymised (the token of the
-- identifier they gave); a contest's note is the subject's own words.
-- grain: one row per record_id

-- name: create
CREATE TABLE IF NOT EXISTS consent.objections (
    record_id   VARCHAR NOT NULL,      -- objection_id of the source, or the CLI's request id
    id_token    VARCHAR NOT NULL,      -- pseudonym(id_type, identifier)
    id_type     VARCHAR NOT NULL,      -- customer_id | email | phone
    scope       VARCHAR NOT NULL,      -- profiling | marketing | contest
    active      BOOLEAN NOT NULL,      -- true: objected or contested; false: withdrawn or resolved
    ts          TIMESTAMPTZ NOT NULL,
    request_id  VARCHAR,
    note        VARCHAR,               -- contest: the reason the subject gave; resolve: the decision
    source      VARCHAR NOT NULL,      -- cli, or the extract file
    run_id      VARCHAR
);
-- Who objects, per customer and scope, as of the consent job's last run:
-- what scoring, segments, triggers and activation leave out.
CREATE TABLE IF NOT EXISTS consent.objecting (
    customer_key  VARCHAR NOT NULL,
    scope         VARCHAR NOT NULL
);

-- name: load
-- New records of the objections source; an erased subject's records never
-- come back.
INSERT INTO consent.objections (record_id, id_token, id_type, scope, active, ts, request_id, source, run_id)
SELECT l.objection_id, pseudonym(l.subject_type, l.subject_id), l.subject_type, l.scope, l.status = 'objected', l.ts,
       l.objection_id, l._file, $run_id
FROM kind.objections l
WHERE l.objection_id NOT IN (SELECT record_id FROM consent.objections)
  AND pseudonym(l.subject_type, l.subject_id) NOT IN (SELECT id_token FROM ops.suppression)
QUALIFY row_number() OVER (PARTITION BY l.objection_id ORDER BY l.ts) = 1;

-- name: build
-- The latest record per customer and scope decides; an objection through a
-- blocked identifier (a shared mailbox) reaches no one.
DELETE FROM consent.objecting;
INSERT INTO consent.objecting
SELECT customer_key, scope FROM (
    SELECT m.customer_key, o.scope, o.active
    FROM consent.objections o
    JOIN identity.customer_map m ON m.id_token = o.id_token AND NOT m.blocked
    QUALIFY row_number() OVER (PARTITION BY m.customer_key, o.scope ORDER BY o.ts DESC, o.active DESC, o.record_id DESC) = 1
) WHERE active
ORDER BY 1, 2;

-- name: audit_loaded
-- One ops.privacy_audit row per record the load added.
INSERT INTO ops.privacy_audit (run_id, logical_date, action, request_id, subject, target, rows, detail)
SELECT $run_id, CAST($date AS DATE), CASE WHEN o.active THEN 'objection' ELSE 'objection_withdrawn' END,
       o.record_id, left(any_value(m.customer_key), 12), 'consent.objections', 1,
       'to ' || o.scope || ' (' || o.id_type || ', from ' || o.source || ')'
FROM consent.objections o
LEFT JOIN identity.customer_map m ON m.id_token = o.id_token AND NOT m.blocked
WHERE o.run_id = $run_id
GROUP BY o.record_id, o.active, o.scope, o.id_type, o.source;

-- name: record
-- A record made now by `parcours privacy object|contest|resolve`.
INSERT INTO consent.objections (record_id, id_token, id_type, scope, active, ts, request_id, note, source)
VALUES ($record_id, $id_token, $id_type, $scope, $active, now(), $request_id, $note, 'cli');

-- name: customers
-- The customers an identifier token reaches now.
SELECT DISTINCT m.customer_key FROM identity.customer_map m WHERE m.id_token = $id_token AND NOT m.blocked ORDER BY 1;

-- name: of_customer
-- A customer's records, for subject access (privacy export).
SELECT o.scope, CASE WHEN o.active THEN CASE o.scope WHEN 'contest' THEN 'contested' ELSE 'objected' END
                     ELSE CASE o.scope WHEN 'contest' THEN 'resolved' ELSE 'withdrawn' END END AS status,
       o.ts, o.request_id, o.note, o.source, o.id_type AS given_with
FROM consent.objections o JOIN identity.customer_map m ON m.id_token = o.id_token
WHERE m.customer_key = $customer_key
ORDER BY o.ts, o.record_id;

-- name: excluded
-- The customers a job must leave out: profiling (scores) are left out for
-- the scopes profiling and contest; segments, triggers and activation for
-- every scope.
SELECT DISTINCT customer_key FROM consent.objecting
WHERE $what <> 'profiling' OR scope IN ('profiling', 'contest')
ORDER BY 1;

-- name: token
-- The token of an identifier given on the command line, normalised as
-- ingest normalises it.
SELECT pseudonym($id_type, CASE $id_type WHEN 'email' THEN norm_email($value) WHEN 'phone' THEN norm_phone($value) ELSE trim($value) END);

-- name: latest
-- The latest record of an identifier in a scope (none: no row).
SELECT active FROM consent.objections WHERE id_token = $id_token AND scope = $scope
ORDER BY ts DESC, record_id DESC LIMIT 1;

-- name: prediction
-- A customer's latest churn prediction with its reasons in words, and
-- their latest CLV figures, for subject access.
SELECT c.scored_on, c.probability, c.risk_band, c.reason_1, c.reason_2, c.reason_3, c.model_id,
       v.scored_on AS clv_scored_on, v.p_alive, v.purchases_365d, v.clv, v.model_id AS clv_model_id
FROM (SELECT $customer_key AS customer_key) k
LEFT JOIN (SELECT * FROM analytics.churn_scores WHERE customer_key = $customer_key
           ORDER BY scored_on DESC LIMIT 1) c USING (customer_key)
LEFT JOIN (SELECT * FROM analytics.clv_scores WHERE customer_key = $customer_key
           ORDER BY scored_on DESC LIMIT 1) v USING (customer_key);
