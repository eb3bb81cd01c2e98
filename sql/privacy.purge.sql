-- The purge job's statements: what leaves hot when consent ends, when a
-- subject is erased, and what leaves landing once a run has consumed it.
-- Each statement deletes from one table, so the job can write one
-- ops.privacy_audit row per table with its row count. A test checks that
-- every table holding a customer_key appears under "erase", so a table
-- added later cannot keep an erased customer by being forgotten here.

-- name: consented_now
-- Customers whose analytics consent is valid at $now (end of the run's day).
-- temp: builds consented_now
CREATE OR REPLACE TEMP TABLE consented_now AS
SELECT DISTINCT customer_key FROM consent.intervals
WHERE purpose = 'analytics' AND valid_from <= CAST($now AS TIMESTAMPTZ)
  AND (valid_to IS NULL OR valid_to > CAST($now AS TIMESTAMPTZ));

-- name: consent_purge
-- Hot facts of customers whose analytics consent was withdrawn or expired.
-- Cold took its share when the facts arrived; it is not touched.
-- temp: reads consented_now
DELETE FROM analytics.web_events WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.app_events WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.store_receipts WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.order_records WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.contacts WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.email_events WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.survey_responses WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.orders WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.customer_features WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.churn_scores WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.clv_scores WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.segment_members WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);
DELETE FROM analytics.trigger_fires WHERE customer_key NOT IN (SELECT customer_key FROM consented_now);

-- name: retention
-- Hot facts older than their table's retention (privacy.retention_months),
-- except the rows of sources with a retention of their own ($own).
-- {{table}} is one of the hot fact tables.
DELETE FROM analytics.{{table}}
WHERE ts < CAST($cutoff AS TIMESTAMPTZ) AND coalesce(_source, '') NOT IN (SELECT unnest(CAST($own AS VARCHAR[])));

-- name: history
-- Per-customer derived history older than privacy.history_days: the
-- nights before the last $days ending $date. Features of night D have
-- cut-off D + 1 (a model's training cut-offs, far older, go the night
-- after it trained; it builds them again when it trains next). The
-- facts stay; cold keeps the segment profiles and the risk mix.
DELETE FROM analytics.customer_features WHERE cutoff <= CAST($date AS DATE) - CAST($days AS INTEGER) + 1;
DELETE FROM analytics.churn_scores WHERE scored_on <= CAST($date AS DATE) - CAST($days AS INTEGER);
DELETE FROM analytics.clv_scores WHERE scored_on <= CAST($date AS DATE) - CAST($days AS INTEGER);
DELETE FROM analytics.segment_members WHERE computed_on <= CAST($date AS DATE) - CAST($days AS INTEGER);

-- name: retention_source
-- A source's own retention (retention_months in its definition).
DELETE FROM analytics.{{table}} WHERE _source = $source AND ts < CAST($cutoff AS TIMESTAMPTZ);

-- name: retention_fresh
-- Rows the next retention delete will take that tonight's ingest just
-- loaded (a history load older than the limit): the night says so.
SELECT count(*) FROM analytics.{{table}}
WHERE ts < CAST($cutoff AS TIMESTAMPTZ) AND coalesce(_source, '') IN (SELECT unnest(CAST($sources AS VARCHAR[])))
  AND _batch IN (SELECT _run_id FROM kind.events UNION SELECT _run_id FROM kind.orders UNION SELECT _run_id FROM kind.contacts
                 UNION SELECT _run_id FROM kind.email_events UNION SELECT _run_id FROM kind.surveys);

-- name: pending_requests
-- The erasure requests landing holds, oldest first.
SELECT request_id, subject_type, subject_id FROM kind.erasure_requests ORDER BY ts, request_id;

-- name: erase_input
-- The erasure requests being carried out, as given: the TEMP table
-- erase_input, which erase_input_rows fills.
-- temp: builds erase_input
CREATE OR REPLACE TEMP TABLE erase_input (request_id VARCHAR, t VARCHAR, v VARCHAR);

-- name: erase_input_rows
-- The requests into erase_input ({{rows}}: one value tuple per request).
-- temp: reads erase_input
INSERT INTO erase_input VALUES {{rows}};

-- name: erase_resolve
-- The customers the requests name, in the identity graph. TEMP tables:
-- erase_requested (the requested identifiers' tokens, normalised as ingest
-- normalises them), erase_keys_by_request and erase_keys (the customers,
-- never through a blocked identifier).
-- temp: builds erase_keys, erase_keys_by_request, erase_requested; reads erase_input
CREATE OR REPLACE TEMP TABLE erase_requested AS
SELECT pseudonym(t, v) AS id_token, t AS id_type, request_id FROM (
  SELECT request_id, t, CASE t WHEN 'email' THEN norm_email(v) WHEN 'phone' THEN norm_phone(v) ELSE trim(v) END AS v FROM erase_input)
WHERE v IS NOT NULL;
CREATE OR REPLACE TEMP TABLE erase_keys_by_request AS
SELECT DISTINCT q.request_id, m.customer_key FROM identity.customer_map m JOIN erase_requested q USING (id_token) WHERE NOT m.blocked;
CREATE OR REPLACE TEMP TABLE erase_keys AS SELECT DISTINCT customer_key FROM erase_keys_by_request;

-- name: erase_keys_by_request
-- Each request's customers (from the TEMP table erase_resolve builds).
-- temp: reads erase_keys_by_request
SELECT request_id, customer_key FROM erase_keys_by_request ORDER BY 1, 2;

-- name: erase_values
-- The forms of the subjects' identifiers to look for in raw text (filled
-- by the job: "text" values are lower-case, "digits" values are phone or
-- card digits, compared with the text stripped of separators).
-- temp: builds erase_quarantine, erase_values
CREATE OR REPLACE TEMP TABLE erase_values AS
SELECT DISTINCT unnest(CAST($values AS VARCHAR[])) AS value, unnest(CAST($forms AS VARCHAR[])) AS form;
CREATE OR REPLACE TEMP TABLE erase_quarantine (rid BIGINT);
-- Does a raw text quote one of them, in any form?
CREATE OR REPLACE TEMP MACRO quotes_erased(raw) AS (
  raw IS NOT NULL AND EXISTS (
    SELECT 1 FROM erase_values v
    WHERE CASE v.form WHEN 'digits' THEN contains(regexp_replace(raw, '[\s.\-()/]', '', 'g'), v.value)
                      ELSE contains(lower(raw), v.value) END));

-- name: erase_quarantine_texts
-- Every quarantined row's text (its raw line, then its reason). The job
-- searches it in the two forms quotes_erased compares, lower-cased and
-- stripped of the separators numbers are written with, for all the
-- erase_values in one pass per row (a join of rows with values took
-- minutes with thousands of requests), and lists the rows that quote one
-- in the TEMP table erase_quarantine (erase_values creates it), which the
-- erase section deletes.
SELECT rowid, coalesce(raw, '') || chr(10) || coalesce(reason, '')
FROM ops.quarantine;

-- name: erase_quarantine
-- The quarantined rows found quoting a subject ($rids, their rowids), into
-- the TEMP table erase_quarantine.
-- temp: reads erase_quarantine
INSERT INTO erase_quarantine SELECT unnest(CAST($rids AS BIGINT[]));

-- name: erase_targets
-- Everything that identifies the subjects being erased: their customers
-- (erase_keys and erase_keys_by_request, which erase_resolve fills from
-- the request identifiers) and every identifier token of those customers,
-- plus the requested ones: the TEMP table erase_tokens.
-- temp: builds erase_tokens; reads erase_keys_by_request, erase_requested
CREATE OR REPLACE TEMP TABLE erase_tokens AS
SELECT id_token, any_value(id_type) AS id_type, min(request_id) AS request_id FROM (
    SELECT m.id_token, m.id_type, k.request_id
    FROM identity.customer_map m JOIN erase_keys_by_request k USING (customer_key)
    UNION ALL SELECT id_token, id_type, request_id FROM erase_requested
) GROUP BY id_token;

-- name: erase_crm_tokens
-- The CRM ids among the subjects' identifiers (TEMP table erase_tokens):
-- vault subjects whose data keys are destroyed, even without a vault row.
-- temp: reads erase_tokens
SELECT id_token FROM erase_tokens WHERE id_type = 'customer_id';

-- name: erase
-- Every row held about the customers being erased, one statement per
-- table, and their identifiers onto the suppression list.
-- temp: reads erase_keys, erase_tokens
DELETE FROM analytics.web_events WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.app_events WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.store_receipts WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.order_records WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.contacts WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.email_events WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.survey_responses WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.orders WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.customer_features WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.churn_scores WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.clv_scores WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.segment_members WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.trigger_fires WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM consent.intervals WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM consent.events WHERE subject_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM consent.trigger_optouts WHERE subject_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM consent.objections WHERE id_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM consent.objecting WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM consent.subject_keys WHERE subject_token IN (SELECT id_token FROM erase_tokens) OR customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.customer_profile WHERE subject_token IN (SELECT id_token FROM erase_tokens) OR customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM analytics.customer_attrs WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM vault.pii WHERE subject_token IN (SELECT id_token FROM erase_tokens) OR customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM vault.pii_stage WHERE subject_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM identity.links WHERE a_token IN (SELECT id_token FROM erase_tokens) OR b_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM identity.identifiers WHERE id_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM identity.blocked WHERE id_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM identity.usage_blocked WHERE id_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM identity.customer_map WHERE customer_key IN (SELECT customer_key FROM erase_keys) OR id_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM identity.customer_map_next WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM identity.customers WHERE customer_key IN (SELECT customer_key FROM erase_keys);
DELETE FROM ops.identity_merges WHERE customer_key IN (SELECT customer_key FROM erase_keys) OR merged_token IN (SELECT id_token FROM erase_tokens);
DELETE FROM ops.cold_ledger WHERE member IN (SELECT customer_key FROM erase_keys);
DELETE FROM ops.cold_cohorts WHERE member IN (SELECT customer_key FROM erase_keys);
DELETE FROM ops.cold_touches WHERE member IN (SELECT customer_key FROM erase_keys);
DELETE FROM route.combo_keys WHERE customer_key IN (SELECT customer_key FROM erase_keys);
-- Marketing destinations still hold the subject: the customer key is cut
-- and the next activation plan removes them everywhere by the id each
-- destination knows them by, then forgets the row.
UPDATE ops.sync_state SET customer_key = NULL, status = 'erase_pending'
WHERE customer_key IN (SELECT customer_key FROM erase_keys);
UPDATE ops.activation_members SET member_key = remote_id, customer_key = NULL
WHERE customer_key IN (SELECT customer_key FROM erase_keys);
INSERT INTO ops.suppression (id_token, id_type, request_id)
SELECT t.id_token, t.id_type, t.request_id
FROM erase_tokens t WHERE t.id_token NOT IN (SELECT id_token FROM ops.suppression);

-- name: erase_texts
-- Rejected rows quoting one of the subject's identifiers in clear, in any
-- written form (found by erase_quarantine_texts); error texts that quote
-- one lose their text.
-- temp: reads erase_quarantine
DELETE FROM ops.quarantine WHERE rowid IN (SELECT rid FROM erase_quarantine);
UPDATE ops.job_runs SET error = '(error text removed: it quoted an erased subject)' WHERE quotes_erased(error);
UPDATE ops.ingest_files SET error = '(error text removed: it quoted an erased subject)' WHERE quotes_erased(error);
UPDATE ops.sync_runs SET error = '(error text removed: it quoted an erased subject)' WHERE quotes_erased(error);
UPDATE ops.dead_letters SET error = '(error text removed: it quoted an erased subject)' WHERE quotes_erased(error);
UPDATE ops.activation_batches SET error = '(error text removed: it quoted an erased subject)' WHERE quotes_erased(error);

-- (landing_drop: landing is staging; once hot and cold have their share,
-- the run's raw personal rows go. The statements are generated from the
-- configured sources, one DELETE per event source's landing table:
-- reference data and marketing spend stay, re-delivery is recognised
-- through ops.landed_keys. See jobs/ingest LandingDrop.)

-- name: quarantine_retention
-- Rejected rows may quote PII in their raw text: they are kept
-- quarantine_days after they were quarantined (wall-clock time), long
-- enough to inspect and fix a bad extract, then deleted.
DELETE FROM ops.quarantine WHERE quarantined_at < now() - to_days(CAST($quarantine_days AS INTEGER));
