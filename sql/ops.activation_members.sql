-- ops.activation_members: the members of each planned batch and what the
-- destination said about each. `kind` add counts as a marketing message
-- for the frequency cap; update re-sends changed fields of a member the
-- destination holds; remove takes one out (left the segment in mirror
-- mode, consent ended, suppressed, erased, or an identifier that changed).
-- member_key is the key results are reported by: the customer key, or the
-- remote id once the customer is erased (the purge cuts the customer key).
-- grain: one row per (idempotency_key, member_key)

-- name: create
CREATE TABLE IF NOT EXISTS ops.activation_members (
    idempotency_key  VARCHAR NOT NULL,
    member_key       VARCHAR NOT NULL,
    customer_key     VARCHAR,            -- NULL once erased
    remote_id        VARCHAR NOT NULL,
    fingerprint      VARCHAR NOT NULL,   -- sha256 of the fields sent ('' for a removal)
    kind             VARCHAR NOT NULL,   -- add | update | remove
    reason           VARCHAR,            -- why removed: left_segment | no_consent | suppressed | erased | identifier_changed
    outcome          VARCHAR,            -- accepted | rejected | NULL (not settled yet)
    detail           VARCHAR             -- the destination's rejection reason
);
