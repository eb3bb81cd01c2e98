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
