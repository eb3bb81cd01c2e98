-- landing.callcenter_contacts: call-centre contacts, phone in E.164.
-- grain: one row per contact_id

-- name: create
CREATE TABLE IF NOT EXISTS landing.callcenter_contacts (
    contact_id  VARCHAR,
    ts          TIMESTAMPTZ,
    event_date  DATE,
    phone       VARCHAR,
    reason      VARCHAR,
    duration_s  BIGINT,
    resolved    BOOLEAN,
    ces         INTEGER,
    agent_id    VARCHAR,
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
ALTER TABLE landing.callcenter_contacts ADD COLUMN IF NOT EXISTS _nulled VARCHAR;

-- name: load
SELECT
    contact_id, ts, local_date(ts) AS event_date, norm_phone(phone) AS phone, reason,
    duration_s, resolved, CAST(ces AS INTEGER) AS ces, agent_id,
    COLUMNS('^_')
FROM typed;
