-- ops.activation_audiences: the size of each destination's segment
-- audience at each plan (members passing the gates), against the previous
-- plan, with the alert raised when it moved by more than
-- activation.size_alert_share (triggers, daily by nature, never alert).
-- grain: one row per (plan_date, destination, segment)

-- name: create
CREATE TABLE IF NOT EXISTS ops.activation_audiences (
    plan_date    DATE NOT NULL,
    destination  VARCHAR NOT NULL,
    segment      VARCHAR NOT NULL,
    members      BIGINT NOT NULL,
    previous     BIGINT,             -- at the previous plan; NULL for a first plan
    change       DOUBLE,             -- (members - previous) / previous
    alert        BOOLEAN NOT NULL
);

-- name: clear_date
-- A new plan of the date replaces its audience sizes.
DELETE FROM ops.activation_audiences WHERE plan_date = CAST($date AS DATE);

-- name: previous
-- A segment's audience size at the latest earlier plan (no row for a first plan).
SELECT members FROM ops.activation_audiences
WHERE destination = $destination AND segment = $segment AND plan_date < CAST($date AS DATE) ORDER BY plan_date DESC LIMIT 1;

-- name: record
-- A segment's audience size at this plan, against the previous one.
INSERT INTO ops.activation_audiences VALUES (CAST($date AS DATE), $destination, $segment, $members, $previous, $change, $alert);
