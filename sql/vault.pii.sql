-- vault.pii: the only place PII is kept. One row per CRM customer id
-- (subject), each value sealed with AES-256-GCM under the subject's own
-- data key; the data keys are wrapped by the master key in keystore.bin,
-- outside this database, so destroying a key (erasure) makes the values
-- unreadable here and in every backup of this file. The vault job writes
-- it from the newest CRM version of each customer; `parcours privacy
-- export` decrypts it for the subject.
-- grain: one row per subject_token

-- name: create
CREATE TABLE IF NOT EXISTS vault.pii (
    subject_token  VARCHAR NOT NULL,  -- pseudonym('customer_id', CRM id): also the keystore entry
    customer_key   VARCHAR,           -- the stitched customer, refreshed each run
    updated_at     TIMESTAMPTZ NOT NULL, -- CRM version sealed here
    customer_id    BLOB,              -- sealed CRM id (needed to answer a subject access request)
    email          BLOB,
    phone          BLOB,
    first_name     BLOB,
    last_name      BLOB,
    birth_date     BLOB,
    postcode       BLOB,
    city           BLOB,
    run_id         VARCHAR NOT NULL,
    name_fps       VARCHAR[]          -- keyed fingerprints of the lower-cased names (internal/vault NameFingerprints), for the privacy audit; NULL until the vault job computes them
);
-- Freshly sealed rows waiting to replace their subjects' rows (empty between runs).
CREATE TABLE IF NOT EXISTS vault.pii_stage AS SELECT * FROM vault.pii LIMIT 0;

-- name: changed
-- The newest CRM version of each customer in this batch, when newer than
-- the sealed one and not suppressed. The vault job seals these in Go. A
-- customer shard seals only its own customers.
SELECT pseudonym('customer_id', c.customer_id) AS subject_token, c.updated_at, c.customer_id,
       c.email, c.phone, c.first_name, c.last_name, CAST(c.birth_date AS VARCHAR) AS birth_date, c.postcode, c.city
FROM kind.customers c
LEFT JOIN vault.pii v ON v.subject_token = pseudonym('customer_id', c.customer_id)
LEFT JOIN identity.customer_map m ON m.id_token = pseudonym('customer_id', c.customer_id)
WHERE (v.updated_at IS NULL OR c.updated_at > v.updated_at)
  AND pseudonym('customer_id', c.customer_id) NOT IN (SELECT id_token FROM ops.suppression)
  AND in_shard(m.customer_key, pseudonym('customer_id', c.customer_id))
QUALIFY row_number() OVER (PARTITION BY c.customer_id ORDER BY c.updated_at DESC, c._file DESC) = 1
ORDER BY subject_token;

-- name: apply
-- Replace the changed subjects' rows by the freshly sealed ones (staged
-- by the job in vault.pii_stage), then refresh customer keys.
DELETE FROM vault.pii WHERE subject_token IN (SELECT subject_token FROM vault.pii_stage);
INSERT INTO vault.pii SELECT * FROM vault.pii_stage ORDER BY subject_token;
DELETE FROM vault.pii_stage;
UPDATE vault.pii SET customer_key = m.customer_key
FROM identity.customer_map m
-- subject tokens are CRM ids' tokens: the map's other types never match (a sixth of the rows to join)
WHERE m.id_type = 'customer_id' AND m.id_token = vault.pii.subject_token AND vault.pii.customer_key IS DISTINCT FROM m.customer_key;

-- name: missing_name_fps
-- The rows sealed before vault.pii kept name fingerprints (migration
-- 0002): their sealed names, for the vault job to fingerprint once.
SELECT subject_token, first_name, last_name FROM vault.pii WHERE name_fps IS NULL ORDER BY subject_token;

-- name: name_fps_stage
-- The fingerprints the vault job computed for those rows, appended here.
-- temp: builds vault_name_fps
CREATE OR REPLACE TEMP TABLE vault_name_fps (subject_token VARCHAR NOT NULL, name_fps VARCHAR[] NOT NULL);

-- name: set_name_fps
-- temp: reads vault_name_fps
UPDATE vault.pii SET name_fps = f.name_fps FROM vault_name_fps f WHERE f.subject_token = vault.pii.subject_token;
DROP TABLE vault_name_fps;

-- name: clear_stage
-- Empty the stage before sealing (a run that failed after staging left
-- rows there).
DELETE FROM vault.pii_stage;

-- name: count
-- How many subjects the vault holds: the vault job's output count, and
-- the keystore check's.
SELECT count(*) FROM vault.pii;

-- name: customer_keys
-- Every customer with a vault entry: parcours-bench decrypts them all to
-- time a full read of the vault.
SELECT DISTINCT customer_key FROM vault.pii WHERE customer_key IS NOT NULL;

-- name: subject_tokens
-- Every subject with a vault row: a data key of no subject here is an
-- orphan the purge destroys.
SELECT subject_token FROM vault.pii;

-- name: read_subjects
-- The sealed entries of some customers ($customer_keys), for erasure,
-- subject access and activation to decrypt (internal/vault ReadSubjects).
-- {{table}} is vault.pii, or an attached shard's, {{fields}} the sealed
-- columns in vault.Fields() order.
SELECT subject_token, coalesce(customer_key, ''), CAST(updated_at AS VARCHAR), {{fields}}
FROM {{table}}
WHERE customer_key IN (SELECT unnest(CAST($customer_keys AS VARCHAR[])))
ORDER BY subject_token;
