-- landing.crm_customers: every version of every CRM record, normalised.
-- grain: one row per (customer_id, updated_at)

-- name: create
CREATE TABLE IF NOT EXISTS landing.crm_customers (
    customer_id     VARCHAR,
    email           VARCHAR,  -- trimmed, lower-case
    phone           VARCHAR,  -- E.164; NULL when unusable (placeholders, too short)
    first_name      VARCHAR,
    last_name       VARCHAR,
    birth_date      DATE,
    postcode        VARCHAR,
    city            VARCHAR,
    loyalty_card    VARCHAR,
    signup_channel  VARCHAR,
    created_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ,
    _file       VARCHAR,  -- extract file (relative to the input folder)
    _load_date  DATE,     -- folder date of that file
    _run_id     VARCHAR,
    _line       BIGINT,   -- Parquet row number; text formats keep it only in quarantine
    _extra      JSON,     -- columns the contract does not know, kept aside
    _reasons    VARCHAR,  -- contract violations (rows with any are moved to ops.quarantine)
    _field      VARCHAR,
    _raw        VARCHAR,
    _nulled     VARCHAR   -- values dropped as invalid, by reason (counted in ops.ingest_files.nulled)
);
ALTER TABLE landing.crm_customers ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    customer_id,
    norm_email(email)   AS email,
    norm_phone(phone)   AS phone,
    first_name,
    last_name,
    birth_date,
    upper(postcode)     AS postcode,
    city,
    loyalty_card,
    signup_channel,
    created_at,
    coalesce(updated_at, created_at) AS updated_at,
    COLUMNS('^_')       -- lineage and contract columns, carried through
FROM typed;
