-- ops.activation_exclusions: who each plan kept out of a destination, and
-- why, as counts (no personal data): no_consent (no consent valid at the
-- end of the date for the destination's purpose), suppressed (an
-- identifier on the suppression list), frequency_cap (already reached the
-- cap of marketing messages in the window), no_identifier (nothing the
-- destination can match on, e.g. no email for an email list).
-- grain: one row per (plan_date, destination, segment, reason)

-- name: create
CREATE TABLE IF NOT EXISTS ops.activation_exclusions (
    plan_date    DATE NOT NULL,
    destination  VARCHAR NOT NULL,
    segment      VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    customers    BIGINT NOT NULL
);

-- name: record
-- How many members of a segment the plan kept out of a destination for
-- one reason.
INSERT INTO ops.activation_exclusions VALUES (CAST($date AS DATE), $destination, $segment, $reason, $customers);
