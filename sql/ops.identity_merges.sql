-- ops.identity_merges: audit of stitching decisions that join two known
-- customers, or change a customer's key. A CRM customer id that joins a
-- customer whose key comes from another CRM id is a merge; it is recorded
-- once, with the identifier that joined them and the key it had before.
-- grain: one row per (customer_key, merged_token)

-- name: create
CREATE TABLE IF NOT EXISTS ops.identity_merges (
    customer_key   VARCHAR NOT NULL,  -- the customer after the merge
    merged_token   VARCHAR NOT NULL,  -- token of the CRM customer id merged in
    merged_label   VARCHAR,           -- that customer id
    via_type       VARCHAR,           -- type of the identifier that joined them
    via_label      VARCHAR,           -- masked identifier
    previous_key   VARCHAR,           -- key the merged id had before, when it had one
    logical_date   DATE NOT NULL,
    run_id         VARCHAR NOT NULL,
    detected_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_key, merged_token)
);

-- name: record
-- The merges a restitch found ({{rows}}: one value tuple per merged CRM
-- id). A merge recorded on an earlier night stays as it was.
INSERT INTO ops.identity_merges
(customer_key, merged_token, merged_label, via_type, via_label, previous_key, logical_date, run_id)
VALUES {{rows}}
ON CONFLICT DO NOTHING;
