-- kind customers: Customer records (CRM), every version: landing.<source> of every
-- customers source. The vault seals them; identity links the customer id
-- to the record's email, phone and card.
-- grain: one row per (customer_id, updated_at)

-- name: columns
-- The landing table of a customers source (ingest adds the lineage columns).
customer_id     VARCHAR,
email           VARCHAR,  -- trimmed, lower-case; NULL when not an email
phone           VARCHAR,  -- E.164; NULL when unusable (placeholders, too short)
first_name      VARCHAR,
last_name       VARCHAR,
birth_date      DATE,
postcode        VARCHAR,
city            VARCHAR,
loyalty_card    VARCHAR,
signup_channel  VARCHAR,
created_at      TIMESTAMPTZ,
updated_at      TIMESTAMPTZ   -- created_at when the source has none

-- name: load
-- The typed, checked rows (relation typed) as they land: normalised
-- identifiers and text, derived days. Email fields come typed already
-- trimmed and lower-cased (norm_email).
SELECT
    customer_id,
    email,
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

-- name: ids
-- The record's identifiers for identity: a customer id is first seen when
-- the customer was created (created), the other identifiers when the
-- record that carries them was updated; a link's evidence is the extract file.
SELECT _source AS source, 'customers' AS kind, _fact AS fact, updated_at AS linked, created_at AS created,
       _file AS evidence, _ids AS ids
FROM kind.customers;
