-- identity.blocked: identifiers the over-merge guard refused to stitch on
-- (a mailbox or placeholder phone shared by many CRM customers, a family
-- computer logged in as several people), with how many customers they touch.
-- grain: one row per blocked identifier

-- name: create
CREATE TABLE IF NOT EXISTS identity.blocked (
    id_token   VARCHAR PRIMARY KEY,
    id_type    VARCHAR NOT NULL,
    label      VARCHAR,
    customers  INTEGER NOT NULL,  -- distinct customer ids (or customers, for devices) it links; receipts a day for generic cards
    max_allowed INTEGER NOT NULL,
    reason     VARCHAR NOT NULL
);

-- name: record
-- The identifiers a restitch blocked, with the reason in words, written by
-- the identity job once identity.incremental.sql swap has cleared the part
-- it restitched. {{rows}} stands for one value tuple per identifier.
INSERT INTO identity.blocked VALUES {{rows}};
